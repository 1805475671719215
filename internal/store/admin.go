package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// bucketAdmin is implemented by the drivers of schemes whose buckets can be
// created through their API and whose credentials come from a chain worth
// naming (s3, gs, azblob); `ghsync check` uses it through Bucket.
type bucketAdmin interface {
	createBucket(ctx context.Context, getenv func(string) string) error
	credentialSource(ctx context.Context, getenv func(string) string) string
}

// CreateBucket creates the bucket (Azure: the container) b is in, with the
// credentials b was opened with. gs:// needs a project: GOOGLE_CLOUD_PROJECT
// from getenv (any name against an emulator). Schemes without buckets to
// create (file, mem) return an error naming the scheme.
func (b *Bucket) CreateBucket(ctx context.Context, getenv func(string) string) error {
	if a, ok := b.drv.(bucketAdmin); ok {
		return a.createBucket(ctx, getenv)
	}
	return fmt.Errorf("the %s scheme cannot create buckets", b.Kind())
}

// CredentialSource says which credentials b uses and where they were found
// ("AWS credentials from EnvConfigCredentials"), or "" where the scheme
// uses none (file, mem) or it cannot be told.
func (b *Bucket) CredentialSource(ctx context.Context, getenv func(string) string) string {
	if a, ok := b.drv.(bucketAdmin); ok {
		return a.credentialSource(ctx, getenv)
	}
	return ""
}

func (d *s3Driver) createBucket(ctx context.Context, _ func(string) string) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(d.name)}
	if r := d.client.Options().Region; r != "" && r != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(r)}
	}
	_, err := d.client.CreateBucket(ctx, in)
	return err
}

func (d *s3Driver) credentialSource(ctx context.Context, _ func(string) string) string {
	p := d.client.Options().Credentials
	if p == nil {
		return "anonymous"
	}
	c, err := p.Retrieve(ctx)
	if err != nil {
		return ""
	}
	src := c.Source
	if src == "" {
		src = "the SDK's default chain"
	}
	return "AWS credentials from " + src
}

func (d *gcsDriver) createBucket(ctx context.Context, getenv func(string) string) error {
	project := getenv("GOOGLE_CLOUD_PROJECT")
	if project == "" {
		if getenv("STORAGE_EMULATOR_HOST") == "" {
			return errors.New("a Google Cloud project is needed to create a bucket: set GOOGLE_CLOUD_PROJECT")
		}
		project = "ghsync"
	}
	return d.api.insertBucket(ctx, project, d.bucket)
}

func (d *gcsDriver) credentialSource(_ context.Context, getenv func(string) string) string {
	switch {
	case getenv("STORAGE_EMULATOR_HOST") != "":
		return "no credentials (emulator at STORAGE_EMULATOR_HOST=" + getenv("STORAGE_EMULATOR_HOST") + ")"
	case getenv("GOOGLE_APPLICATION_CREDENTIALS") != "":
		return "Google credentials from GOOGLE_APPLICATION_CREDENTIALS"
	}
	return "Google application default credentials"
}

func (d *azureDriver) createBucket(ctx context.Context, _ func(string) string) error {
	_, err := d.cc.Create(ctx, nil)
	return err
}

func (d *azureDriver) credentialSource(_ context.Context, getenv func(string) string) string {
	for _, k := range []string{"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_CLIENT_SECRET"} {
		if getenv(k) != "" {
			return "Azure credentials from " + k
		}
	}
	return "Azure default credential chain"
}
