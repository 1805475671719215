package s3test

import (
	"context"
	"github.com/ghsync/ghsync/internal/testkit/testname"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestBucketName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	for _, name := range []string{"TestX", "TestPut/s3/Very_Long_Subtest_Name_With_Many_Words_And_More", "Test__/__"} {
		a, b := testname.Unique(name), testname.Unique(name)
		if !valid.MatchString(a) || len(a) > 63 {
			t.Errorf("testname.Unique(%q) = %q, not a valid S3 bucket name", name, a)
		}
		if a == b {
			t.Errorf("testname.Unique(%q) not unique: %q twice", name, a)
		}
	}
}

// TestBucketLifecycle: Bucket returns a usable, empty bucket and removes it
// (with its objects) when the test that asked for it ends.
func TestBucketLifecycle(t *testing.T) {
	ctx := context.Background()
	var name string
	t.Run("inner", func(t *testing.T) {
		raw := Bucket(t)
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "s3" || u.Query().Get("endpoint") == "" || u.Query().Get("use_path_style") != "true" {
			t.Fatalf("Bucket URL %q", raw)
		}
		name = u.Host
		c := Client(t)
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
		if err != nil || len(out.Contents) != 0 {
			t.Fatalf("fresh bucket: %v objects, err %v", len(out.Contents), err)
		}
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String("a/b"),
			Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(name), Key: aws.String("pending")}); err != nil {
			t.Fatal(err)
		}
	})
	if name == "" {
		t.Skip(SkipMessage)
	}
	if _, err := Client(t).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)}); err == nil {
		t.Fatalf("bucket %s still exists after its test ended", name)
	}
}
