package cdn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// CloudFront's invalidation limits
// (docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/InvalidationLimits.html):
// up to 3,000 individual paths in progress per distribution at one time (so
// one run sends at most that many), and up to 15 wildcard paths in progress.
const (
	cloudFrontMaxPaths     = 3000
	cloudFrontMaxWildcards = 15
)

// CloudFrontAPI is the part of the CloudFront client a target calls.
type CloudFrontAPI interface {
	CreateInvalidation(ctx context.Context, in *cloudfront.CreateInvalidationInput, optFns ...func(*cloudfront.Options)) (*cloudfront.CreateInvalidationOutput, error)
}

// cloudFront invalidates paths of one distribution.
type cloudFront struct {
	id     string
	client CloudFrontAPI
	now    func() time.Time
}

// NewCloudFront returns the target for distribution id calling client.
func NewCloudFront(id string, client CloudFrontAPI) Target {
	return &cloudFront{id: id, client: client, now: time.Now}
}

// newCloudFrontClient builds a CloudFront client the way ghsync's other AWS
// clients are built: the SDK's default chain for credentials and settings,
// so AWS_ENDPOINT_URL_CLOUDFRONT and AWS_ENDPOINT_URL apply, with the
// target URL's ?endpoint= overriding them. CloudFront is a global service
// signed in us-east-1 when no region is configured.
func newCloudFrontClient(ctx context.Context, q url.Values) (*cloudfront.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("CloudFront: AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return cloudfront.NewFromConfig(cfg, func(o *cloudfront.Options) {
		if ep := q.Get("endpoint"); ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	}), nil
}

func (c *cloudFront) URL() string { return "cloudfront://" + c.id }

func (c *cloudFront) Limits() Limits {
	return Limits{Batch: cloudFrontMaxPaths, MaxExact: cloudFrontMaxPaths, MaxWildcards: cloudFrontMaxWildcards}
}

// Invalidate creates one invalidation. The caller reference is derived from
// the paths and the time, so a retry of the same paths later is a new
// invalidation while the SDK's own retries of one call are recognised.
func (c *cloudFront) Invalidate(ctx context.Context, paths []string) (string, error) {
	h := sha256.New()
	h.Write([]byte(strings.Join(paths, "\n")))
	ref := "ghsync-" + strconv.FormatInt(c.now().UnixNano(), 36) + "-" + hex.EncodeToString(h.Sum(nil))[:12]
	out, err := c.client.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
		DistributionId: aws.String(c.id),
		InvalidationBatch: &cftypes.InvalidationBatch{
			CallerReference: aws.String(ref),
			Paths:           &cftypes.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
		},
	})
	if err != nil {
		return "", fmt.Errorf("CloudFront distribution %s: create invalidation of %d paths: %w", c.id, len(paths), err)
	}
	if out.Invalidation == nil || out.Invalidation.Id == nil {
		return "", nil
	}
	return *out.Invalidation.Id, nil
}
