package aztest

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// TestBackslashBecomesSlash pins the service behaviour behind store's
// azblob:// rule that names with "\" cannot be stored: the blob written as
// `dir\name.txt` is listed as `dir/name.txt` (as on Azure itself).
func TestBackslashBecomesSlash(t *testing.T) {
	raw := Container(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	c := Client(t)
	ctx := context.Background()
	if _, err := c.UploadBuffer(ctx, u.Host, `dir\name.txt`, []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	var names []string
	p := c.NewListBlobsFlatPager(u.Host, &azblob.ListBlobsFlatOptions{})
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Segment.BlobItems {
			names = append(names, *it.Name)
		}
	}
	if got := strings.Join(names, ","); got != "dir/name.txt" {
		t.Fatalf("listed %q; want the backslash turned into a slash (if the server now keeps it, store's ReservedChars for azblob can go)", got)
	}
}
