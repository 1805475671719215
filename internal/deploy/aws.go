package deploy

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ghsync/ghsync/internal/awsapi"
	"github.com/ghsync/ghsync/internal/slogx"
)

// ClientOptions select the AWS account, region and endpoints for NewRules.
type ClientOptions struct {
	// Region overrides the region of the environment/profile.
	Region string
	// Profile selects a shared-config profile ("" = default chain).
	Profile string
	// EventsEndpoint, LambdaEndpoint and STSEndpoint override the service
	// endpoints (tests, moto_server). The AWS_ENDPOINT_URL_* variables work too.
	EventsEndpoint, LambdaEndpoint, STSEndpoint string
	// Logger receives progress; nil discards.
	Logger *slog.Logger
}

// NewRules builds a Rules for function (a name or an ARN) from the default
// AWS credential chain. A bare name is turned into an ARN with the caller's
// account (STS GetCallerIdentity) and the region.
func NewRules(ctx context.Context, function string, o ClientOptions) (*Rules, error) {
	if function == "" {
		return nil, fmt.Errorf("--function is required (a function name or ARN)")
	}
	lo := []func(*awsconfig.LoadOptions) error{awsconfig.WithLogger(slogx.AWS(o.Logger))}
	if o.Region != "" {
		lo = append(lo, awsconfig.WithRegion(o.Region))
	}
	if o.Profile != "" {
		lo = append(lo, awsconfig.WithSharedConfigProfile(o.Profile))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("no AWS region: set --region or AWS_REGION")
	}
	arn := function
	if !strings.HasPrefix(function, "arn:") {
		st := sts.NewFromConfig(cfg, func(so *sts.Options) {
			if o.STSEndpoint != "" {
				so.BaseEndpoint = aws.String(o.STSEndpoint)
			}
		})
		id, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, fmt.Errorf("find the AWS account (sts get-caller-identity): %w", err)
		}
		partition := "aws"
		if parts := strings.SplitN(aws.ToString(id.Arn), ":", 3); len(parts) == 3 && parts[1] != "" {
			partition = parts[1]
		}
		arn = fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", partition, cfg.Region, aws.ToString(id.Account), function)
	}
	events, err := awsapi.New(ctx, cfg, eventsService, o.EventsEndpoint)
	if err != nil {
		return nil, err
	}
	lambda, err := awsapi.New(ctx, cfg, lambdaService, o.LambdaEndpoint)
	if err != nil {
		return nil, err
	}
	return &Rules{Events: events, Lambda: lambda, FunctionARN: arn, Logger: o.Logger}, nil
}
