package store

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// awsConfig loads the SDK configuration for an s3:// URL's query parameters
// (the parameters gocloud's s3blob URLs take: region, endpoint,
// hostname_immutable, profile, dualstack, fips, rate_limiter_capacity,
// anonymous, role, request_checksum_calculation, response_checksum_validation).
//
// Unlike gocloud.dev/aws.V2ConfigFromURLParams it hands log to the SDK while
// loading, so the clients built during loading (the credential chain's EC2
// metadata client: "falling back to IMDSv1") log through ghsync's logger
// and level instead of writing to stderr themselves.
func awsConfig(ctx context.Context, q url.Values, log *slog.Logger) (aws.Config, error) {
	var endpoint, roleARN string
	var hostnameImmutable bool
	var capacity int64
	opts := []func(*config.LoadOptions) error{config.WithLogger(sdkLogger{log})}
	boolParam := func(k, v string) (bool, error) {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("invalid value %q for %s: want true or false", v, k)
		}
		return b, nil
	}
	for k, vs := range q {
		v := vs[0]
		var err error
		switch k {
		case "region":
			opts = append(opts, config.WithRegion(v))
		case "endpoint":
			endpoint = v
		case "hostname_immutable":
			hostnameImmutable, err = boolParam(k, v)
		case "profile":
			opts = append(opts, config.WithSharedConfigProfile(v))
		case "dualstack", "fips", "anonymous":
			var on bool
			if on, err = boolParam(k, v); on {
				switch k {
				case "dualstack":
					opts = append(opts, config.WithUseDualStackEndpoint(aws.DualStackEndpointStateEnabled))
				case "fips":
					opts = append(opts, config.WithUseFIPSEndpoint(aws.FIPSEndpointStateEnabled))
				default:
					opts = append(opts, config.WithCredentialsProvider(aws.AnonymousCredentials{}))
				}
			}
		case "rate_limiter_capacity":
			if capacity, err = strconv.ParseInt(v, 10, 32); err != nil {
				err = fmt.Errorf("invalid value %q for %s: want a number", v, k)
			}
		case "role":
			if !strings.HasPrefix(v, "arn:") {
				err = fmt.Errorf("invalid value for role: want an ARN (arn:…)")
			}
			roleARN = v
		case "request_checksum_calculation":
			var required bool
			if required, err = whenRequired(k, v); err == nil {
				c := aws.RequestChecksumCalculationWhenSupported
				if required {
					c = aws.RequestChecksumCalculationWhenRequired
				}
				opts = append(opts, config.WithRequestChecksumCalculation(c))
			}
		case "response_checksum_validation":
			var required bool
			if required, err = whenRequired(k, v); err == nil {
				c := aws.ResponseChecksumValidationWhenSupported
				if required {
					c = aws.ResponseChecksumValidationWhenRequired
				}
				opts = append(opts, config.WithResponseChecksumValidation(c))
			}
		default:
			err = fmt.Errorf("unknown query parameter %q", k)
		}
		if err != nil {
			return aws.Config{}, err
		}
	}
	if roleARN != "" {
		base, err := config.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
		}
		if base.Region == "" {
			return aws.Config{}, fmt.Errorf("role %s: a region is needed to assume a role (region= or AWS_REGION)", roleARN)
		}
		opts = append(opts, config.WithCredentialsProvider(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), roleARN)),
			config.WithRegion(base.Region))
	}
	var rl retry.RateLimiter = ratelimit.None
	if capacity > 0 {
		rl = ratelimit.NewTokenRateLimit(uint(capacity))
	}
	opts = append(opts, config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.RateLimiter = rl
			// 429 is a throttle whatever its code (s3retry.go).
			o.Retryables = append(o.Retryables, tooManyRequests{})
			o.Throttles = append(o.Throttles, tooManyRequests{})
		})
	}))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	if endpoint != "" {
		// As gocloud does (the tests against S3-compatible servers rely on
		// its addressing): one endpoint for every service and region.
		cfg.EndpointResolverWithOptions = aws.EndpointResolverWithOptionsFunc( //nolint:staticcheck // gocloud's semantics
			func(_, region string, _ ...any) (aws.Endpoint, error) {
				return aws.Endpoint{PartitionID: "aws", URL: endpoint, SigningRegion: region, HostnameImmutable: hostnameImmutable}, nil
			})
	}
	return cfg, nil
}

// whenRequired parses a checksum setting: when_supported (false) or
// when_required (true), any case.
func whenRequired(k, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "when_supported":
		return false, nil
	case "when_required":
		return true, nil
	}
	return false, fmt.Errorf("invalid value %q for %s: want when_supported or when_required", v, k)
}
