package mototest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// CloudFront calls moto_server's CloudFront REST-XML API (API version
// 2020-05-31) with SigV4-signed requests from test credentials in
// us-east-1. It is written here, apart from ghsync's own client, so that
// tests read what moto recorded independently of the code under test; it
// does not link the SDK's CloudFront client, whose compilation alone cost
// more than a test package of ghsync's.
type CloudFront struct {
	endpoint string
	http     *http.Client
	signer   *v4.Signer
}

// cloudFrontAPI is the path prefix of CloudFront API version 2020-05-31.
const cloudFrontAPI = "/2020-05-31"

// CloudFrontClient returns a CloudFront client for a moto_server at
// endpoint: region us-east-1, test credentials.
func CloudFrontClient(endpoint string) *CloudFront {
	return &CloudFront{endpoint: strings.TrimSuffix(endpoint, "/"), http: &http.Client{Timeout: time.Minute}, signer: v4.NewSigner()}
}

// do sends a signed request and decodes a 2xx XML answer into out (when not
// nil); any other answer is an error with its body.
func (c *CloudFront) do(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/xml")
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "cloudfront", "us-east-1", time.Now()); err != nil {
		return fmt.Errorf("sign %s %s: %w", method, path, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	if out == nil {
		return nil
	}
	if err := xml.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode %q: %w", method, path, b, err)
	}
	return nil
}

// distributionConfig is the CreateDistribution request: one S3 origin.
const distributionConfig = `<?xml version="1.0" encoding="UTF-8"?>
<DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">
  <CallerReference>%s</CallerReference>
  <Comment>ghsync test</Comment>
  <Enabled>true</Enabled>
  <Origins><Quantity>1</Quantity><Items><Origin>
    <Id>site</Id><DomainName>site.s3.amazonaws.com</DomainName>
    <S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig>
  </Origin></Items></Origins>
  <DefaultCacheBehavior>
    <TargetOriginId>site</TargetOriginId>
    <ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy>
    <CachePolicyId>658327ea-f89d-4fab-a63d-7e88639e58f6</CachePolicyId>
  </DefaultCacheBehavior>
</DistributionConfig>`

// CreateDistribution creates a distribution (an S3 origin) in moto and
// returns its id.
func CreateDistribution(t testing.TB, c *CloudFront) string {
	t.Helper()
	var ref bytes.Buffer
	if err := xml.EscapeText(&ref, []byte(t.Name())); err != nil {
		t.Fatal(err)
	}
	var out struct {
		ID string `xml:"Id"`
	}
	if err := c.do(context.Background(), http.MethodPost, cloudFrontAPI+"/distribution", fmt.Appendf(nil, distributionConfig, ref.String()), &out); err != nil {
		t.Fatalf("moto CreateDistribution: %v", err)
	}
	if out.ID == "" {
		t.Fatal("moto CreateDistribution: no distribution id in the answer")
	}
	return out.ID
}

// Invalidations returns the path lists of the distribution's invalidations
// in moto, oldest first (ListInvalidations, then GetInvalidation for each).
func Invalidations(t testing.TB, c *CloudFront, id string) [][]string {
	t.Helper()
	ctx := context.Background()
	base := cloudFrontAPI + "/distribution/" + url.PathEscape(id) + "/invalidation"
	var list struct {
		Items []struct {
			ID string `xml:"Id"`
		} `xml:"Items>InvalidationSummary"`
	}
	if err := c.do(ctx, http.MethodGet, base, nil, &list); err != nil {
		t.Fatalf("moto ListInvalidations: %v", err)
	}
	var out [][]string
	for _, s := range list.Items {
		var inv struct {
			Quantity int      `xml:"InvalidationBatch>Paths>Quantity"`
			Items    []string `xml:"InvalidationBatch>Paths>Items>Path"`
		}
		if err := c.do(ctx, http.MethodGet, base+"/"+url.PathEscape(s.ID), nil, &inv); err != nil {
			t.Fatalf("moto GetInvalidation %s: %v", s.ID, err)
		}
		if inv.Quantity != len(inv.Items) {
			t.Fatalf("invalidation %s: Quantity %d but %d paths", s.ID, inv.Quantity, len(inv.Items))
		}
		out = append(out, inv.Items)
	}
	return out
}
