package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/ghsync/ghsync/internal/awsapi"
	"github.com/ghsync/ghsync/internal/slogx"
)

// sesService is the Amazon SES v2 API (REST-JSON, email.REGION.amazonaws.com;
// AWS_ENDPOINT_URL_SESV2 names another endpoint, as for the SDK's client).
var sesService = awsapi.Service{Name: "SES", SigningName: "ses", SDKID: "SESv2", Host: "email"}

// sesConfig loads the AWS configuration for SES: region from
// ses://?region=R, else AWS_REGION; found is false when the SDK's chain
// finds no credentials (nothing can be sent).
func sesConfig(ctx context.Context, deps *Deps, via *url.URL) (cfg aws.Config, found bool, err error) {
	region := via.Query().Get("region")
	if region == "" {
		region = deps.Getenv("AWS_REGION")
	}
	lo := []func(*awsconfig.LoadOptions) error{awsconfig.WithLogger(slogx.AWS(deps.Logger))}
	if region != "" {
		lo = append(lo, awsconfig.WithRegion(region))
	}
	cfg, err = awsconfig.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return cfg, false, fmt.Errorf("email via SES: AWS configuration: %w", err)
	}
	if cfg.Credentials == nil {
		return cfg, false, nil
	}
	c, err := cfg.Credentials.Retrieve(ctx)
	if err != nil || !c.HasKeys() {
		return cfg, false, nil
	}
	return cfg, true, nil
}

// sesContent is an SES v2 Content (text and its charset).
type sesContent struct {
	Data    string
	Charset string
}

// sesSendEmail is the SES v2 SendEmail request of a plain-text email in
// SES's Simple form, the form the SDK client sent before (the IAM action is
// ses:SendEmail; a Raw message would need ses:SendRawEmail as well).
type sesSendEmail struct {
	FromEmailAddress string
	Destination      struct{ ToAddresses []string }
	Content          struct {
		Simple struct {
			Subject sesContent
			Body    struct{ Text sesContent }
		}
	}
}

// sendSES delivers p with the SES v2 SendEmail operation (through awsapi,
// signed with cfg's credentials: sesConfig) and returns SES's message id
// ("" when its 2xx answer does not say). The endpoint is &endpoint=URL
// (tests), else AWS_ENDPOINT_URL_SESV2 or the region's. SES gives the
// message its own Message-ID.
func sendSES(ctx context.Context, cfg aws.Config, via *url.URL, p emailPayload) (string, error) {
	var in sesSendEmail
	in.FromEmailAddress, in.Destination.ToAddresses = p.From, p.To
	in.Content.Simple.Subject = sesContent{Data: p.Subject, Charset: "UTF-8"}
	in.Content.Simple.Body.Text = sesContent{Data: p.Body, Charset: "UTF-8"}
	c, err := awsapi.New(ctx, cfg, sesService, via.Query().Get("endpoint"))
	if err != nil {
		return "", fmt.Errorf("email via SES: %w", err)
	}
	resp, err := c.CallRESTJSON(ctx, http.MethodPost, "/v2/email/outbound-emails", nil, in)
	if err != nil {
		return "", fmt.Errorf("email via SES (region %s) SendEmail: %w", cfg.Region, err)
	}
	// SES took the message: an answer that does not decode still counts as
	// sent (a resend would be a second email), only the id is missing.
	var out struct {
		MessageID string `json:"MessageId"`
	}
	_ = json.Unmarshal(resp.Body, &out)
	return out.MessageID, nil
}
