package mototest

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// CloudFrontClient returns a CloudFront client for a moto_server at
// endpoint: region us-east-1, test credentials.
func CloudFrontClient(endpoint string) *cloudfront.Client {
	return cloudfront.New(cloudfront.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
}

// CreateDistribution creates a distribution (an S3 origin) in moto and
// returns its id.
func CreateDistribution(t testing.TB, c *cloudfront.Client) string {
	t.Helper()
	out, err := c.CreateDistribution(context.Background(), &cloudfront.CreateDistributionInput{
		DistributionConfig: &cftypes.DistributionConfig{
			CallerReference: aws.String(t.Name()),
			Comment:         aws.String("ghsync test"),
			Enabled:         aws.Bool(true),
			Origins: &cftypes.Origins{Quantity: aws.Int32(1), Items: []cftypes.Origin{{
				Id: aws.String("site"), DomainName: aws.String("site.s3.amazonaws.com"),
				S3OriginConfig: &cftypes.S3OriginConfig{OriginAccessIdentity: aws.String("")},
			}}},
			DefaultCacheBehavior: &cftypes.DefaultCacheBehavior{
				TargetOriginId: aws.String("site"), ViewerProtocolPolicy: cftypes.ViewerProtocolPolicyAllowAll,
				CachePolicyId: aws.String("658327ea-f89d-4fab-a63d-7e88639e58f6"),
			},
		},
	})
	if err != nil {
		t.Fatalf("moto CreateDistribution: %v", err)
	}
	return *out.Distribution.Id
}

// Invalidations returns the path lists of the distribution's invalidations
// in moto, oldest first (ListInvalidations, then GetInvalidation for each).
func Invalidations(t testing.TB, c *cloudfront.Client, id string) [][]string {
	t.Helper()
	ctx := context.Background()
	list, err := c.ListInvalidations(ctx, &cloudfront.ListInvalidationsInput{DistributionId: aws.String(id)})
	if err != nil {
		t.Fatalf("moto ListInvalidations: %v", err)
	}
	var out [][]string
	for _, s := range list.InvalidationList.Items {
		inv, err := c.GetInvalidation(ctx, &cloudfront.GetInvalidationInput{DistributionId: aws.String(id), Id: s.Id})
		if err != nil {
			t.Fatalf("moto GetInvalidation %s: %v", *s.Id, err)
		}
		p := inv.Invalidation.InvalidationBatch.Paths
		if int(aws.ToInt32(p.Quantity)) != len(p.Items) {
			t.Fatalf("invalidation %s: Quantity %d but %d paths", *s.Id, aws.ToInt32(p.Quantity), len(p.Items))
		}
		out = append(out, slices.Clone(p.Items))
	}
	return out
}
