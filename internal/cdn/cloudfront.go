package cdn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/ghsync/ghsync/internal/awsapi"
)

// CloudFront's invalidation limits
// (docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/InvalidationLimits.html):
// up to 3,000 individual paths in progress per distribution at one time (so
// one run sends at most that many), and up to 15 wildcard paths in progress.
const (
	cloudFrontMaxPaths     = 3000
	cloudFrontMaxWildcards = 15
)

// cloudFrontService is CloudFront for signing and endpoints: a global
// service, signed in us-east-1 (cloudfront.amazonaws.com).
var cloudFrontService = awsapi.Service{Name: "CloudFront", SigningName: "cloudfront", SDKID: "CloudFront", Host: "cloudfront", Global: true}

// cloudFrontAPIVersion is the REST API's version, the first path segment.
const cloudFrontAPIVersion = "2020-05-31"

// cloudFront invalidates paths of one distribution.
type cloudFront struct {
	id     string
	client *awsapi.Client
	now    func() time.Time
}

// NewCloudFront returns the target for distribution id calling client.
func NewCloudFront(id string, client *awsapi.Client) Target {
	return &cloudFront{id: id, client: client, now: time.Now}
}

// newCloudFrontClient builds the CloudFront client the way ghsync's other
// AWS clients are built: the SDK's default chain for credentials and
// settings, so AWS_ENDPOINT_URL_CLOUDFRONT and AWS_ENDPOINT_URL apply, with
// the target URL's ?endpoint= overriding them.
func newCloudFrontClient(ctx context.Context, q url.Values) (*awsapi.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("CloudFront: AWS configuration: %w", err)
	}
	return awsapi.New(ctx, cfg, cloudFrontService, q.Get("endpoint"))
}

func (c *cloudFront) URL() string { return "cloudfront://" + c.id }

func (c *cloudFront) Limits() Limits {
	return Limits{Batch: cloudFrontMaxPaths, MaxExact: cloudFrontMaxPaths, MaxWildcards: cloudFrontMaxWildcards}
}

// invalidationBatch is CreateInvalidation's request body
// (docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateInvalidation.html).
type invalidationBatch struct {
	XMLName         xml.Name `xml:"http://cloudfront.amazonaws.com/doc/2020-05-31/ InvalidationBatch"`
	Quantity        int      `xml:"Paths>Quantity"`
	Paths           []string `xml:"Paths>Items>Path"`
	CallerReference string   `xml:"CallerReference"`
}

// invalidation is the part of CreateInvalidation's response ghsync reads.
type invalidation struct {
	ID string `xml:"Id"`
}

// Invalidate creates one invalidation (POST
// /2020-05-31/distribution/ID/invalidation). The caller reference is
// derived from the paths and the time, so a retry of the same paths later
// is a new invalidation while the retries of one call are recognised.
func (c *cloudFront) Invalidate(ctx context.Context, paths []string) (string, error) {
	h := sha256.New()
	h.Write([]byte(strings.Join(paths, "\n")))
	ref := "ghsync-" + strconv.FormatInt(c.now().UnixNano(), 36) + "-" + hex.EncodeToString(h.Sum(nil))[:12]
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("CloudFront distribution %s: create invalidation of %d paths: %w", c.id, len(paths), err)
	}
	var body bytes.Buffer
	body.WriteString(xml.Header)
	if err := xml.NewEncoder(&body).Encode(invalidationBatch{Quantity: len(paths), Paths: paths, CallerReference: ref}); err != nil {
		return fail(err)
	}
	resp, err := c.client.Do(ctx, awsapi.Request{
		Method: http.MethodPost,
		Path:   "/" + cloudFrontAPIVersion + "/distribution/" + url.PathEscape(c.id) + "/invalidation",
		Header: http.Header{"Content-Type": {"application/xml"}},
		Body:   body.Bytes(),
	})
	if err != nil {
		return fail(err)
	}
	var out invalidation
	if err := xml.Unmarshal(resp, &out); err != nil {
		return fail(fmt.Errorf("decode response: %w", err))
	}
	return out.ID, nil
}
