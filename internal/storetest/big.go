package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

// testPagingAndBatchDelete uploads 1,050 small objects concurrently, lists
// them all (two pages) with ETags equal to Put's, then deletes them.
func testPagingAndBatchDelete(t *testing.T, be Backend) {
	ctx := context.Background()
	b := Open(t, be.URL(t, "many/"), store.Options{Concurrency: 16})
	caps := b.Capabilities()
	const n = 1050
	keys := make([]string, n)
	etags := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	start := time.Now()
	for i := range n {
		keys[i] = fmt.Sprintf("d%02d/obj-%04d.txt", i%7, i)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			o, err := b.Put(ctx, keys[i], strings.NewReader(keys[i]), store.PutOptions{Size: -1})
			if err != nil {
				errs <- err
				return
			}
			etags[i] = o.ETag
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%s: uploaded %d objects in %v", be.Name, n, time.Since(start))
	before := b.Stats().Requests
	start = time.Now()
	got := ListAll(t, b)
	t.Logf("%s: listed %d objects in %v", be.Name, len(got), time.Since(start))
	if len(got) != n {
		t.Fatalf("listed %d objects, want %d", len(got), n)
	}
	for i, k := range keys {
		if got[k].ETag != etags[i] || got[k].Size != int64(len(k)) {
			t.Fatalf("listing of %s = %+v, want ETag %s", k, got[k], etags[i])
		}
	}
	after := b.Stats().Requests
	if pages := after["list"] - before["list"]; pages != 2 {
		t.Errorf("listing took %d pages, want 2", pages)
	}
	if caps.ListETags && after["head"] != before["head"] {
		t.Errorf("listing made %d HEAD requests, want 0", after["head"]-before["head"])
	}
	start = time.Now()
	if err := b.Delete(ctx, append(keys, "never-existed")); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: deleted %d objects in %v", be.Name, n, time.Since(start))
	wantReq := (n + 1 + caps.DeleteBatch - 1) / caps.DeleteBatch
	if d := b.Stats().Requests["delete"] - after["delete"]; d != wantReq {
		t.Errorf("delete of %d keys used %d requests, want %d (batches of %d)", n+1, d, wantReq, caps.DeleteBatch)
	}
	if left := ListAll(t, b); len(left) != 0 {
		t.Fatalf("%d objects left after delete", len(left))
	}
}

// testMultipart uploads a 12 MiB stream with a 5 MiB part size: Put, Stat,
// List and Read agree on it; on S3 it is a 3-part upload with a "…-3" ETag.
func testMultipart(t *testing.T, be Backend) {
	ctx := context.Background()
	b := Open(t, be.URL(t, "big/"), store.Options{PartSize: 5 << 20, Concurrency: 2})
	body := pattern(12 << 20)
	// Hide the size and the io.WriterTo/Seeker of bytes.Reader: a pure stream.
	obj, err := b.Put(ctx, "blob.bin", struct{ io.Reader }{bytes.NewReader(body)}, store.PutOptions{Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	if obj.Size != int64(len(body)) {
		t.Fatalf("Put size = %d, want %d", obj.Size, len(body))
	}
	if be.Scheme == "s3" {
		if !strings.HasSuffix(strings.Trim(obj.ETag, `"`), "-3") {
			t.Errorf("multipart ETag = %s, want a …-3 ETag", obj.ETag)
		}
		if obj.MD5 != nil {
			t.Errorf("multipart object reports MD5 %x", obj.MD5)
		}
		if p := b.Stats().Requests["multipart_part"]; p != 3 {
			t.Errorf("multipart_part = %d, want 3", p)
		}
	}
	st, err := b.Stat(ctx, "blob.bin")
	if err != nil || st.ETag != obj.ETag || st.Size != obj.Size {
		t.Fatalf("Stat = %+v %v, want ETag %s", st, err, obj.ETag)
	}
	if l := ListAll(t, b)["blob.bin"]; l.ETag != obj.ETag {
		t.Fatalf("List ETag = %s, want %s", l.ETag, obj.ETag)
	}
	data, _, err := b.Read(ctx, "blob.bin")
	if err != nil || sha256.Sum256(data) != sha256.Sum256(body) {
		t.Fatalf("Read back differs (len %d, err %v)", len(data), err)
	}
	if got := b.Stats().BytesUploaded; got != int64(len(body)) {
		t.Errorf("BytesUploaded = %d, want %d", got, len(body))
	}
}

// testPartBoundary checks exactly PartSize and PartSize+1 bytes, and a
// conditional multipart write (loser, then winner).
func testPartBoundary(t *testing.T, be Backend) {
	ctx := context.Background()
	b := Open(t, be.URL(t, ""), store.Options{PartSize: 5 << 20})
	exact := pattern(5 << 20)
	o1, err := b.Put(ctx, "exact", struct{ io.Reader }{bytes.NewReader(exact)}, store.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	over := pattern(5<<20 + 1)
	o2, err := b.Put(ctx, "over", struct{ io.Reader }{bytes.NewReader(over)}, store.PutOptions{IfNoneMatch: true})
	if err != nil {
		t.Fatal(err)
	}
	if be.Scheme == "s3" {
		if strings.Contains(o1.ETag, "-") || !strings.HasSuffix(strings.Trim(o2.ETag, `"`), "-2") {
			t.Errorf("ETags %s (want single) and %s (want …-2)", o1.ETag, o2.ETag)
		}
	}
	_, err = b.Put(ctx, "over", struct{ io.Reader }{bytes.NewReader(pattern(11 << 20))}, store.PutOptions{IfNoneMatch: true})
	if !errors.Is(err, store.ErrPreconditionFailed) {
		t.Fatalf("multipart IfNoneMatch on existing: %v, want ErrPreconditionFailed", err)
	}
	_, err = b.Put(ctx, "over", struct{ io.Reader }{bytes.NewReader(pattern(11 << 20))}, store.PutOptions{IfMatch: o1.ETag})
	if !errors.Is(err, store.ErrPreconditionFailed) {
		t.Fatalf("stale multipart IfMatch: %v, want ErrPreconditionFailed", err)
	}
	if st, err := b.Stat(ctx, "over"); err != nil || st.Size != int64(len(over)) || st.ETag != o2.ETag {
		t.Fatalf("after failed conditional multipart: %+v %v", st, err)
	}
	o3, err := b.Put(ctx, "over", struct{ io.Reader }{bytes.NewReader(pattern(11 << 20))}, store.PutOptions{IfMatch: o2.ETag})
	if err != nil || o3.Size != 11<<20 {
		t.Fatalf("multipart IfMatch: %+v %v", o3, err)
	}
	if data, etag, err := b.Read(ctx, "over"); err != nil || len(data) != 11<<20 || etag != o3.ETag {
		t.Fatalf("after winning multipart IfMatch: %d bytes, ETag %s, %v; want ETag %s", len(data), etag, err, o3.ETag)
	}
}

// failingReader yields n bytes and then an error.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("source broke")
	}
	k := min(len(p), f.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	f.n -= k
	return k, nil
}

// testBrokenSource: a body that fails mid-stream (small or multipart) leaves
// no object behind.
func testBrokenSource(t *testing.T, be Backend) {
	ctx := context.Background()
	root := be.URL(t, "")
	b := Open(t, root, store.Options{PartSize: 5 << 20})
	for _, n := range []int{1000, 12 << 20} {
		_, err := b.Put(ctx, "broken", &failingReader{n: n}, store.PutOptions{})
		if err == nil || !strings.Contains(err.Error(), "source broke") {
			t.Fatalf("Put of broken %d-byte source: %v", n, err)
		}
		if _, err := b.Stat(ctx, "broken"); !errors.Is(err, store.ErrNotExist) {
			t.Fatalf("after broken %d-byte source Stat = %v, want ErrNotExist", n, err)
		}
	}
	if len(ListAll(t, b)) != 0 {
		t.Fatal("objects left behind by broken uploads")
	}
	if be.Scheme == "s3" {
		u, _ := url.Parse(root)
		ups, err := s3test.Client(t).ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(u.Host)})
		if err != nil || len(ups.Uploads) != 0 {
			t.Fatalf("multipart uploads left behind: %d (%v)", len(ups.Uploads), err)
		}
	}
}
