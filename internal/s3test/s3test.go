// Package s3test gives tests a fresh bucket on the real S3-compatible server
// (VersityGW) started by scripts/s3server.sh or .ci/run.
//
// The server is found through GHSYNC_TEST_S3_ENDPOINT (e.g.
// http://127.0.0.1:7070) and the usual AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY / AWS_REGION variables (defaulting to the script's
// fixed test credentials). When GHSYNC_TEST_S3_ENDPOINT is unset, tests that
// ask for a bucket are skipped with a loud message, or fail when
// GHSYNC_REQUIRE_S3=1 (as in CI).
package s3test

import (
	"context"
	"fmt"
	"github.com/ghsync/ghsync/internal/testkit/testname"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Environment variables read by this package.
const (
	EnvEndpoint = "GHSYNC_TEST_S3_ENDPOINT"
	EnvRequire  = "GHSYNC_REQUIRE_S3"
)

// Fixed test credentials used by scripts/s3server.sh.
const (
	TestAccessKey = "ghsynctest"
	TestSecretKey = "ghsynctestsecret"
)

// SkipMessage is the message tests are skipped with when no server is configured.
const SkipMessage = "SKIP: no S3 server; run scripts/s3server.sh start or .ci/run " +
	"(set " + EnvEndpoint + "; " + EnvRequire + "=1 makes this a failure)"

// Endpoint returns the server's endpoint URL, skipping the test (or failing
// it when GHSYNC_REQUIRE_S3=1) when none is configured.
func Endpoint(t testing.TB) string {
	t.Helper()
	ep := os.Getenv(EnvEndpoint)
	if ep == "" {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%s is unset but %s=1: the real S3 server is required", EnvEndpoint, EnvRequire)
		}
		t.Log("*****************************************************************")
		t.Skip(SkipMessage)
	}
	return ep
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Region returns AWS_REGION, or us-east-1.
func Region() string { return envOr("AWS_REGION", "us-east-1") }

// Client returns an S3 client for the test server (path-style addressing,
// checksums only when required), skipping like Endpoint when none is set.
func Client(t testing.TB) *s3.Client {
	t.Helper()
	ep := Endpoint(t)
	return s3.New(s3.Options{
		Region:       Region(),
		BaseEndpoint: aws.String(ep),
		UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(
			envOr("AWS_ACCESS_KEY_ID", TestAccessKey), envOr("AWS_SECRET_ACCESS_KEY", TestSecretKey), ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// Bucket creates a fresh, empty, uniquely named bucket on the test server and
// returns a destination URL for it (s3://NAME/?endpoint=…&region=…&use_path_style=true&disable_https=…),
// suitable for store.Open. The bucket and everything in it is deleted in
// t.Cleanup. Skips (or fails with GHSYNC_REQUIRE_S3=1) when no server is set.
func Bucket(t testing.TB) string {
	t.Helper()
	ep := Endpoint(t)
	client := Client(t)
	name := testname.Unique(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("s3test: create bucket %s on %s: %v", name, ep, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := Remove(ctx, client, name); err != nil {
			t.Errorf("s3test: cleanup: %v", err)
		}
	})
	q := url.Values{}
	q.Set("endpoint", ep)
	q.Set("region", Region())
	q.Set("use_path_style", "true")
	if strings.HasPrefix(ep, "http://") {
		q.Set("disable_https", "true")
	}
	return "s3://" + name + "/?" + q.Encode()
}

// Remove deletes every object and pending multipart upload in the bucket, then
// the bucket itself.
func Remove(ctx context.Context, client *s3.Client, name string) error {
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w", name, err)
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, len(page.Contents))
		for i, o := range page.Contents {
			ids[i] = types.ObjectIdentifier{Key: o.Key}
		}
		if _, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(name), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		}); err != nil {
			return fmt.Errorf("empty %s: %w", name, err)
		}
	}
	ups, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(name)})
	if err != nil {
		return fmt.Errorf("list multipart uploads in %s: %w", name, err)
	}
	for _, u := range ups.Uploads {
		if _, err := client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(name), Key: u.Key, UploadId: u.UploadId,
		}); err != nil {
			return fmt.Errorf("abort upload %s in %s: %w", aws.ToString(u.Key), name, err)
		}
	}
	if _, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
		return fmt.Errorf("delete bucket %s: %w", name, err)
	}
	return nil
}
