package awsapi

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Service names an AWS service for signing and endpoint resolution.
type Service struct {
	// Name is how errors name the service ("Parameter Store").
	Name string
	// SigningName is SigV4's service name ("ssm").
	SigningName string
	// SDKID is the service's SDK id, as in AWS_ENDPOINT_URL_<SDK_ID> and
	// the shared config's services sections ("SSM", "Secrets Manager").
	SDKID string
	// Host is the standard hostname prefix ("ssm" → ssm.REGION.amazonaws.com).
	Host string
	// Global services (CloudFront) have one endpoint per partition, signed
	// in the partition's home region.
	Global bool
	// JSONVersion is the AWS JSON protocol version CallJSON speaks ("1.0"
	// for DynamoDB; "" means "1.1").
	JSONVersion string
}

func (s Service) jsonVersion() string {
	if s.JSONVersion == "" {
		return "1.1"
	}
	return s.JSONVersion
}

// Endpoint is where a client sends its requests and how it signs them.
type Endpoint struct {
	URL           string
	SigningRegion string
}

// partition is the DNS suffix and home region of an AWS partition.
type partition struct {
	regionPrefix, dnsSuffix, homeRegion string
}

// partitions by region prefix (the SDK's partitions.json; "aws" last).
var partitions = []partition{
	{"cn-", "amazonaws.com.cn", "cn-northwest-1"},
	{"us-gov-", "amazonaws.com", "us-gov-west-1"},
	{"us-isob-", "sc2s.sgov.gov", "us-isob-east-1"},
	{"us-isof-", "csp.hci.ic.gov", "us-isof-south-1"},
	{"us-iso-", "c2s.ic.gov", "us-iso-east-1"},
	{"eu-isoe-", "cloud.adc-e.uk", "eu-isoe-west-1"},
	{"eusc-", "amazonaws.eu", "eusc-de-east-1"},
	{"", "amazonaws.com", "us-east-1"},
}

func partitionOf(region string) partition {
	for _, p := range partitions {
		if strings.HasPrefix(region, p.regionPrefix) {
			return p
		}
	}
	return partitions[len(partitions)-1]
}

// ResolveEndpoint picks the endpoint the way the SDK's clients do, in this
// order: override (a URL parameter); the service's configured endpoint
// (AWS_ENDPOINT_URL_<SDK_ID>, or endpoint_url in the profile's services
// section); the global AWS_ENDPOINT_URL / endpoint_url; the service's
// standard endpoint for cfg.Region. FIPS and dual-stack endpoints
// (AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT) are not derived: when
// asked for without a configured endpoint, the error says to name it.
func ResolveEndpoint(ctx context.Context, cfg aws.Config, s Service, override string) (Endpoint, error) {
	region := cfg.Region
	if s.Global {
		region = partitionOf(region).homeRegion
	}
	if region == "" {
		return Endpoint{}, fmt.Errorf("%s: no AWS region: set AWS_REGION (or region in the AWS profile)", s.Name)
	}
	ep := override
	if ep == "" {
		ep = configuredEndpoint(ctx, cfg, s)
	}
	if ep != "" {
		u, err := url.Parse(ep)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return Endpoint{}, fmt.Errorf("%s: invalid endpoint %q: want a URL such as https://host:port", s.Name, ep)
		}
		return Endpoint{URL: strings.TrimRight(ep, "/"), SigningRegion: region}, nil
	}
	if wantsVariant(ctx, cfg) {
		return Endpoint{}, fmt.Errorf("%s: FIPS or dual-stack endpoints are asked for (AWS_USE_FIPS_ENDPOINT / AWS_USE_DUALSTACK_ENDPOINT) but ghsync does not derive them: name the endpoint (AWS_ENDPOINT_URL_%s, or ?endpoint=)", s.Name, strings.ToUpper(strings.ReplaceAll(s.SDKID, " ", "_")))
	}
	host := s.Host + "." + region + "." + partitionOf(region).dnsSuffix
	if s.Global && region == "us-east-1" { // cloudfront.amazonaws.com
		host = s.Host + "." + partitionOf(region).dnsSuffix
	}
	return Endpoint{URL: "https://" + host, SigningRegion: region}, nil
}

// configuredEndpoint reads the endpoint configured for s in cfg's sources
// (environment, shared config, load options), service-specific first,
// unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is set.
func configuredEndpoint(ctx context.Context, cfg aws.Config, s Service) string {
	type ignorer interface {
		GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error)
	}
	type serviceEndpoint interface {
		GetServiceBaseEndpoint(context.Context, string) (string, bool, error)
	}
	for _, src := range cfg.ConfigSources {
		if p, ok := src.(ignorer); ok {
			if v, found, _ := p.GetIgnoreConfiguredEndpoints(ctx); found && v {
				return ""
			}
		}
	}
	for _, src := range cfg.ConfigSources {
		if p, ok := src.(serviceEndpoint); ok {
			if v, found, err := p.GetServiceBaseEndpoint(ctx, s.SDKID); err == nil && found && v != "" {
				return v
			}
		}
	}
	return aws.ToString(cfg.BaseEndpoint)
}

// wantsVariant reports whether cfg's sources ask for FIPS or dual-stack
// endpoints.
func wantsVariant(ctx context.Context, cfg aws.Config) bool {
	type fips interface {
		GetUseFIPSEndpoint(context.Context) (aws.FIPSEndpointState, bool, error)
	}
	type dual interface {
		GetUseDualStackEndpoint(context.Context) (aws.DualStackEndpointState, bool, error)
	}
	for _, src := range cfg.ConfigSources {
		if p, ok := src.(fips); ok {
			if v, found, _ := p.GetUseFIPSEndpoint(ctx); found && v == aws.FIPSEndpointStateEnabled {
				return true
			}
		}
		if p, ok := src.(dual); ok {
			if v, found, _ := p.GetUseDualStackEndpoint(ctx); found && v == aws.DualStackEndpointStateEnabled {
				return true
			}
		}
	}
	return false
}
