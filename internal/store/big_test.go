package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ghsync/ghsync/internal/s3test"
)

// TestPagingAndBatchDelete uploads 1,050 small objects concurrently, lists
// them all (two pages) with ETags equal to Put's, then deletes them in batches.
func TestPagingAndBatchDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		b := open(t, be.url(t, "many/"), Options{Concurrency: 16})
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
				o, err := b.Put(ctx, keys[i], strings.NewReader(keys[i]), PutOptions{Size: -1})
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
		t.Logf("%s: uploaded %d objects in %v", be.name, n, time.Since(start))
		before := b.Stats().Requests
		start = time.Now()
		got := listAll(t, b)
		t.Logf("%s: listed %d objects in %v", be.name, len(got), time.Since(start))
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
		if after["head"] != before["head"] {
			t.Errorf("listing made %d HEAD requests, want 0", after["head"]-before["head"])
		}
		start = time.Now()
		if err := b.Delete(ctx, append(keys, "never-existed")); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: deleted %d objects in %v", be.name, n, time.Since(start))
		if be.name == "s3" {
			if d := b.Stats().Requests["delete"]; d != 2 {
				t.Errorf("S3 delete of %d keys used %d requests, want 2 batches", n+1, d)
			}
		}
		if left := listAll(t, b); len(left) != 0 {
			t.Fatalf("%d objects left after delete", len(left))
		}
	})
}

// TestMultipart uploads a 12 MiB body with a 5 MiB part size: on S3 it must be
// a 3-part multipart upload whose "…-3" ETag Put, Stat and List agree on.
func TestMultipart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		b := open(t, be.url(t, "big/"), Options{PartSize: 5 << 20, Concurrency: 2})
		body := pattern(12 << 20)
		// Hide the size and the io.WriterTo/Seeker of bytes.Reader: a pure stream.
		obj, err := b.Put(ctx, "blob.bin", struct{ io.Reader }{bytes.NewReader(body)}, PutOptions{Size: -1})
		if err != nil {
			t.Fatal(err)
		}
		if obj.Size != int64(len(body)) {
			t.Fatalf("Put size = %d, want %d", obj.Size, len(body))
		}
		if be.name == "s3" {
			if !strings.HasSuffix(normETag(obj.ETag), "-3") {
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
		if l := listAll(t, b)["blob.bin"]; l.ETag != obj.ETag {
			t.Fatalf("List ETag = %s, want %s", l.ETag, obj.ETag)
		}
		data, _, err := b.Read(ctx, "blob.bin")
		if err != nil || sha256.Sum256(data) != sha256.Sum256(body) {
			t.Fatalf("Read back differs (len %d, err %v)", len(data), err)
		}
		if got := b.Stats().BytesUploaded; got != int64(len(body)) {
			t.Errorf("BytesUploaded = %d, want %d", got, len(body))
		}
	})
}

// TestPartBoundary checks the single/multipart decision at exactly PartSize
// and PartSize+1 bytes, and a conditional multipart write.
func TestPartBoundary(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		b := open(t, be.url(t, ""), Options{PartSize: 5 << 20})
		exact := pattern(5 << 20)
		o1, err := b.Put(ctx, "exact", struct{ io.Reader }{bytes.NewReader(exact)}, PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		over := pattern(5<<20 + 1)
		o2, err := b.Put(ctx, "over", struct{ io.Reader }{bytes.NewReader(over)}, PutOptions{IfNoneMatch: true})
		if err != nil {
			t.Fatal(err)
		}
		if be.name == "s3" {
			if strings.Contains(o1.ETag, "-") || !strings.HasSuffix(normETag(o2.ETag), "-2") {
				t.Errorf("ETags %s (want single) and %s (want …-2)", o1.ETag, o2.ETag)
			}
		}
		// A multipart write conditional on a stale ETag must fail and leave the object.
		_, err = b.Put(ctx, "over", bytes.NewReader(pattern(11<<20)), PutOptions{IfMatch: o1.ETag})
		if !errors.Is(err, ErrPreconditionFailed) {
			t.Fatalf("stale multipart IfMatch: %v, want ErrPreconditionFailed", err)
		}
		if st, err := b.Stat(ctx, "over"); err != nil || st.Size != int64(len(over)) || st.ETag != o2.ETag {
			t.Fatalf("after failed conditional multipart: %+v %v", st, err)
		}
		// And with the right ETag it succeeds.
		o3, err := b.Put(ctx, "over", bytes.NewReader(pattern(11<<20)), PutOptions{IfMatch: o2.ETag})
		if err != nil || o3.Size != 11<<20 {
			t.Fatalf("multipart IfMatch: %+v %v", o3, err)
		}
	})
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

// TestBrokenSourceWritesNothing: a body that fails mid-stream (small or
// multipart) leaves no object behind.
func TestBrokenSourceWritesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		b := open(t, be.url(t, ""), Options{PartSize: 5 << 20})
		for _, n := range []int{1000, 12 << 20} {
			_, err := b.Put(ctx, "broken", &failingReader{n: n}, PutOptions{})
			if err == nil || !strings.Contains(err.Error(), "source broke") {
				t.Fatalf("Put of broken %d-byte source: %v", n, err)
			}
			if _, err := b.Stat(ctx, "broken"); !errors.Is(err, ErrNotExist) {
				t.Fatalf("after broken %d-byte source Stat = %v, want ErrNotExist", n, err)
			}
		}
		if be.name == "s3" {
			ups, err := b.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b.s3Name)})
			if err != nil || len(ups.Uploads) != 0 {
				t.Fatalf("multipart uploads left behind: %d (%v)", len(ups.Uploads), err)
			}
		}
	})
}

// BenchmarkPut64MiB measures a streamed 64 MiB upload (16 MiB parts, 4 in flight).
func BenchmarkPut64MiB(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			var raw string
			switch be.name {
			case "s3":
				raw = s3test.Bucket(b)
			case "file":
				raw = "file://" + b.TempDir()
			default:
				raw = "mem://bench" + randName()
			}
			bkt, err := Open(context.Background(), raw, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer bkt.Close()
			body := pattern(64 << 20)
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := bkt.Put(context.Background(), fmt.Sprintf("o%d", i), struct{ io.Reader }{bytes.NewReader(body)}, PutOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
