//go:build integration

package e2e

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ghsync/ghsync/internal/gcstest"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/testkit/testname"
)

// bucketCheck runs `ghsync check` on a repo job (a folder source) writing
// to dest, with env.
func bucketCheck(t *testing.T, dest string, env map[string]string, args ...string) result {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"src/a.txt": "A", "ghsync.yaml": "jobs:\n  - name: site\n    kind: repo\n    source: dir:src\n    dest: '" + dest + "'\n"})
	return exe(t, dir, env, append([]string{"check"}, args...)...)
}

// A missing S3 bucket (VersityGW) is a failure naming the job, the check,
// the bucket and what to set; --create-bucket creates it and the probe
// object is removed, leaving the bucket empty.
func TestCheckMissingS3Bucket(t *testing.T) {
	ep := s3test.Endpoint(t)
	client := s3test.Client(t)
	name := testname.Unique(t.Name())
	q := url.Values{"endpoint": {ep}, "region": {s3test.Region()}, "use_path_style": {"true"}, "disable_https": {"true"}}
	dest := "s3://" + name + "/www/?" + q.Encode()
	env := map[string]string{"AWS_ACCESS_KEY_ID": os.Getenv("AWS_ACCESS_KEY_ID"), "AWS_SECRET_ACCESS_KEY": os.Getenv("AWS_SECRET_ACCESS_KEY")}
	r := bucketCheck(t, dest, env)
	if r.code != 1 || !strings.Contains(r.stdout, "site  store dest") || !strings.Contains(r.stdout, `bucket "`+name+`" does not exist`) ||
		!strings.Contains(r.stdout, "--create-bucket") || !strings.Contains(r.stdout, "AWS credentials from") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr: %s\nwant exit 1 naming site, store dest, the bucket and --create-bucket", r.code, r.stdout, r.stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)}); err == nil {
		t.Fatal("check without --create-bucket created the bucket")
	}
	r = bucketCheck(t, dest, env, "--create-bucket")
	t.Cleanup(func() { _ = s3test.Remove(context.Background(), client, name) })
	if r.code != 0 || !strings.Contains(r.stdout, `bucket "`+name+`" created`) {
		t.Fatalf("--create-bucket: exit %d, stdout:\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 0 {
		t.Errorf("check left %d objects (first %s)", len(out.Contents), aws.ToString(out.Contents[0].Key))
	}
}

// A missing Cloud Storage bucket (fake-gcs-server): today's error was
// "list gs://…: object does not exist: storage: bucket doesn't exist"; now
// a failed check naming the bucket and --create-bucket, which creates it.
func TestCheckMissingGCSBucket(t *testing.T) {
	host := gcstest.Emulator(t)
	c := gcstest.Client(t)
	name := testname.Unique(t.Name())
	env := map[string]string{"STORAGE_EMULATOR_HOST": os.Getenv("STORAGE_EMULATOR_HOST")}
	_ = host
	r := bucketCheck(t, "gs://"+name+"/www/", env)
	if r.code != 1 || !strings.Contains(r.stdout, `bucket "`+name+`" does not exist`) || !strings.Contains(r.stdout, "--create-bucket") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	r = bucketCheck(t, "gs://"+name+"/www/", env, "--create-bucket")
	t.Cleanup(func() { _ = gcstest.Remove(context.Background(), c, name) })
	if r.code != 0 || !strings.Contains(r.stdout, "created") {
		t.Fatalf("--create-bucket: exit %d, stdout:\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if page, err := c.Objects.List(name).Context(context.Background()).Do(); err != nil || len(page.Items) != 0 {
		t.Errorf("check left objects (%v): %v", page, err)
	}
}
