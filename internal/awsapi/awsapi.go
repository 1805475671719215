// Package awsapi calls one AWS API operation without the service's SDK
// client: the request is built by the caller (JSON 1.0/1.1, REST-JSON or
// REST-XML; CallJSON does the JSON protocols' framing), signed
// with the SDK's SigV4 signer using the credentials of an aws.Config (the
// SDK's default chain: environment, shared config and profiles, SSO, web
// identity, container and instance roles), sent through the config's HTTP
// client, and retried with the SDK's standard retryer and backoff (or
// adaptive mode, AWS_RETRY_MODE; AWS_MAX_ATTEMPTS applies). A failed call
// returns an *APIError carrying the AWS error code and message.
//
// ghsync uses it for the few single calls that did not earn a full service
// client in the binary: Parameter Store GetParameter, Secrets Manager
// GetSecretValue, CloudFront CreateInvalidation, the EventBridge rule and
// Lambda permission/invoke calls of `deploy schedules`, the DynamoDB
// writes of the webhook mirror (webhooks/dynamo) and the inbox's SES v2
// SendEmail.
package awsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// maxResponse bounds the response body read: these APIs answer in a few KB
// (a secret value is at most 64 KB) except a synchronous Lambda invoke,
// whose payload is at most 6 MB. A longer body is an error, never cut.
const maxResponse = 8 << 20

// Client sends signed requests to one service endpoint.
type Client struct {
	cfg      aws.Config
	service  Service
	endpoint Endpoint
	retryer  aws.Retryer
	signer   *v4.Signer
}

// New returns a client for service with cfg's credentials, HTTP client and
// retry settings. endpoint overrides every configured endpoint when not
// empty (a URL parameter such as ?endpoint=); otherwise the endpoint is
// resolved as the SDK would (see ResolveEndpoint).
func New(ctx context.Context, cfg aws.Config, service Service, endpoint string) (*Client, error) {
	ep, err := ResolveEndpoint(ctx, cfg, service, endpoint)
	if err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, service: service, endpoint: ep, retryer: retryerFor(cfg), signer: v4.NewSigner()}, nil
}

// Endpoint returns the endpoint the client calls.
func (c *Client) Endpoint() Endpoint { return c.endpoint }

// retryerFor builds the retryer the SDK's service clients build from cfg.
func retryerFor(cfg aws.Config) aws.Retryer {
	var r aws.Retryer
	switch {
	case cfg.Retryer != nil:
		r = cfg.Retryer()
	case cfg.RetryMode == aws.RetryModeAdaptive:
		r = retry.NewAdaptiveMode()
	default:
		r = retry.NewStandard()
	}
	if cfg.RetryMaxAttempts > 0 {
		r = retry.AddWithMaxAttempts(r, cfg.RetryMaxAttempts)
	}
	return r
}

// Request is one API call.
type Request struct {
	// Method and Path ("/" for the JSON protocols; escaped) with an optional
	// RawQuery.
	Method, Path, RawQuery string
	// Header holds the protocol headers (Content-Type, X-Amz-Target).
	Header http.Header
	// Body is sent as is on every attempt.
	Body []byte
}

// Response is a 2xx answer: its status, headers (REST protocols return
// results there, such as Lambda's X-Amz-Function-Error) and body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends req like Send and returns the body of the 2xx response.
func (c *Client) Do(ctx context.Context, req Request) ([]byte, error) {
	resp, err := c.Send(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Send sends req, retrying what the SDK's retryer deems retryable
// (throttling, 5xx, connection errors), and returns the 2xx response. Other
// responses become an *APIError (the status and AWS's error code and
// message); the returned error after retries wraps the last one.
func (c *Client) Send(ctx context.Context, req Request) (*Response, error) {
	sum := sha256.Sum256(req.Body)
	payloadHash := hex.EncodeToString(sum[:])
	release := c.retryer.GetInitialToken()
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, req, payloadHash)
		if err == nil {
			_ = release(nil)
			return resp, nil
		}
		_ = release(err)
		if ctx.Err() != nil || attempt >= c.retryer.MaxAttempts() || !c.retryer.IsErrorRetryable(err) {
			if attempt > 1 {
				return nil, fmt.Errorf("after %d attempts: %w", attempt, err)
			}
			return nil, err
		}
		next, terr := c.retryer.GetRetryToken(ctx, err)
		if terr != nil { // the retry quota is spent
			return nil, err
		}
		release = next
		delay, derr := c.retryer.RetryDelay(attempt, err)
		if derr != nil {
			return nil, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (while waiting to retry after: %w)", context.Cause(ctx), err)
		case <-t.C:
		}
	}
}

// once sends one signed attempt.
func (c *Client) once(ctx context.Context, req Request, payloadHash string) (*Response, error) {
	if c.cfg.Credentials == nil {
		return nil, errors.New("no AWS credentials configured")
	}
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS credentials (none found in the environment, shared config, SSO, web identity, container or instance role?): %w", err)
	}
	u := c.endpoint.URL + req.Path
	if req.RawQuery != "" {
		u += "?" + req.RawQuery
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, u, bytes.NewReader(req.Body))
	if err != nil {
		return nil, fmt.Errorf("build %s request: %w", c.service.Name, err)
	}
	for k, v := range req.Header {
		hr.Header[k] = v
	}
	hr.Header.Set("X-Amz-Content-Sha256", payloadHash)
	if err := c.signer.SignHTTP(ctx, creds, hr, payloadHash, c.service.SigningName, c.endpoint.SigningRegion, time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("sign %s request: %w", c.service.Name, err)
	}
	resp, err := c.httpClient().Do(hr)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("read %s response: %w", c.service.Name, err)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("read %s response: longer than %d bytes", c.service.Name, maxResponse)
	}
	if resp.StatusCode/100 != 2 {
		return nil, parseError(resp, body)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

func (c *Client) httpClient() aws.HTTPClient {
	if c.cfg.HTTPClient != nil {
		return c.cfg.HTTPClient
	}
	return http.DefaultClient
}

// trimType reduces an AWS error type ("com.amazon.coral#Code:http://…",
// "aws.protocols#Code") to its code.
func trimType(s string) string {
	if i := strings.LastIndexByte(s, '#'); i >= 0 {
		s = s[i+1:]
	}
	s, _, _ = strings.Cut(s, ":")
	return strings.TrimSpace(s)
}
