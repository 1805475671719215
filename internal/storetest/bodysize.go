package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

// cutReader yields body and then fails with err instead of io.EOF, as an
// HTTP body does when the connection closes before Content-Length bytes
// arrived (io.ErrUnexpectedEOF) or is reset.
type cutReader struct {
	r   io.Reader
	err error
}

func (c *cutReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		return n, c.err
	}
	return n, err
}

// testBodySize: a Put whose body holds fewer or more bytes than the
// declared Size, or whose read fails with io.ErrUnexpectedEOF (a cut HTTP
// body), fails and leaves nothing visible: no new object, an existing
// object unchanged, no multipart upload in progress. Single-request and
// multipart sizes are both tried.
func testBodySize(t *testing.T, be Backend) {
	ctx := context.Background()
	root := be.URL(t, "")
	b := Open(t, root, store.Options{PartSize: 5 << 20})
	old := Put(t, b, "existing", "the old content", store.PutOptions{})
	for _, size := range []int{242, 12 << 20} {
		body := pattern(size)
		cases := []struct {
			name string
			r    func() io.Reader
			decl int64
			want error
		}{
			{"short", func() io.Reader { return bytes.NewReader(body[:size/2]) }, int64(size), store.ErrBodySize},
			{"long", func() io.Reader { return io.MultiReader(bytes.NewReader(body), bytes.NewReader([]byte("extra"))) }, int64(size), store.ErrBodySize},
			{"cut-declared", func() io.Reader { return &cutReader{bytes.NewReader(body[:size/2]), io.ErrUnexpectedEOF} }, int64(size), store.ErrBodyCut},
			{"cut-undeclared", func() io.Reader { return &cutReader{bytes.NewReader(body[:size/2]), io.ErrUnexpectedEOF} }, -1, store.ErrBodyCut},
		}
		for _, c := range cases {
			for _, key := range []string{"new", "existing"} {
				what := fmt.Sprintf("%s %d-byte body declared %d at %s", c.name, size, c.decl, key)
				_, err := b.Put(ctx, key, c.r(), store.PutOptions{Size: c.decl})
				if !errors.Is(err, c.want) {
					t.Fatalf("Put of %s = %v, want an error matching %v", what, err, c.want)
				}
				if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
					t.Fatalf("Put of %s: error %v matches an end of body", what, err)
				}
				if _, err := b.Stat(ctx, "new"); !errors.Is(err, store.ErrNotExist) {
					t.Fatalf("after %s: Stat(new) = %v, want ErrNotExist", what, err)
				}
				data, etag, err := b.Read(ctx, "existing")
				if err != nil || string(data) != "the old content" || etag != old.ETag {
					t.Fatalf("after %s: existing = %q %s (%v), want the old content, ETag %s", what, data, etag, err, old.ETag)
				}
			}
		}
	}
	if keys := ListAll(t, b); len(keys) != 1 {
		t.Fatalf("objects after failed puts: %v, want only existing", keys)
	}
	// The exact size still goes through.
	obj := Put(t, b, "exact", string(pattern(242)), store.PutOptions{Size: 242})
	if obj.Size != 242 {
		t.Fatalf("exact put size %d", obj.Size)
	}
	if be.Scheme == "s3" {
		u, _ := url.Parse(root)
		ups, err := s3test.Client(t).ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(u.Host)})
		if err != nil || len(ups.Uploads) != 0 {
			t.Fatalf("multipart uploads left behind: %d (%v)", len(ups.Uploads), err)
		}
	}
}
