package storetest

import (
	"context"
	"net/url"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	gcs "google.golang.org/api/storage/v1"

	"github.com/ghsync/ghsync/internal/aztest"
	"github.com/ghsync/ghsync/internal/gcstest"
	"github.com/ghsync/ghsync/internal/s3test"
)

// rawNames lists the object names in the bucket of root as the server
// itself reports them, through the test helpers' own SDK clients (not
// through store or gocloud): what other tools see. ok is false for schemes
// without a server (mem://, file://).
func rawNames(t testing.TB, scheme, root string) (names map[string]bool, ok bool) {
	t.Helper()
	u, err := url.Parse(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	names = map[string]bool{}
	switch scheme {
	case "s3":
		p := s3.NewListObjectsV2Paginator(s3test.Client(t), &s3.ListObjectsV2Input{Bucket: aws.String(u.Host)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("raw S3 listing: %v", err)
			}
			for _, o := range page.Contents {
				names[aws.ToString(o.Key)] = true
			}
		}
	case "gs":
		err := gcstest.Client(t).Objects.List(u.Host).Pages(ctx, func(page *gcs.Objects) error {
			for _, a := range page.Items {
				names[a.Name] = true
			}
			return nil
		})
		if err != nil {
			t.Fatalf("raw GCS listing: %v", err)
		}
	case "azblob":
		p := aztest.Client(t).NewListBlobsFlatPager(u.Host, &azblob.ListBlobsFlatOptions{})
		for p.More() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("raw Azure listing: %v", err)
			}
			for _, it := range page.Segment.BlobItems {
				names[*it.Name] = true
			}
		}
	default:
		return nil, false
	}
	return names, true
}
