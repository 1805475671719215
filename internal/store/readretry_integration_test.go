//go:build integration

package store

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ghsync/ghsync/internal/faultproxy"
	"github.com/ghsync/ghsync/internal/s3test"
)

// faultOnce puts the fault proxy in front of the S3 server with one kind of
// fault at rate 1, for the first request of each (method, key) that first
// names, and counts every request by "METHOD key". It returns the bucket
// opened through the proxy and the counts.
func faultOnce(t *testing.T, kind faultproxy.Kind, first map[string]bool) (*Bucket, func(method, key string) int) {
	t.Helper()
	direct := s3test.Bucket(t)
	name, _, _ := BucketOf(direct)
	var mu sync.Mutex
	seen := map[string]int{}
	filter := func(r *http.Request) bool {
		key := strings.TrimPrefix(r.URL.Path, "/"+name+"/")
		mu.Lock()
		defer mu.Unlock()
		seen[r.Method+" "+key]++
		return first[r.Method+" "+key] && seen[r.Method+" "+key] == 1
	}
	p, err := faultproxy.NewHTTP(s3test.Endpoint(t), faultproxy.Config{Seed: 1, Rates: faultproxy.Rates{kind: 1},
		Filter: filter, RetryAfter: "0", ErrorType: "application/xml",
		// As e2e's s3ErrorBody: a code the SDK's retryer does not list.
		ErrorBody: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>fault injected</Message></Error>`})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("endpoint", p.URL)
	u.RawQuery = q.Encode()
	count := func(method, key string) int {
		mu.Lock()
		defer mu.Unlock()
		return seen[method+" "+key]
	}
	return open(t, u.String(), Options{}), count
}

// TestS3ReadSurvivesCutBody (VersityGW through the fault proxy): the first
// GET of a small object has its body cut half-way (closed, or reset); Read
// returns the whole object after a second GET. A missing object is one GET.
func TestS3ReadSurvivesCutBody(t *testing.T) {
	for _, kind := range []faultproxy.Kind{faultproxy.Short, faultproxy.Reset} {
		t.Run(string(kind), func(t *testing.T) {
			b, count := faultOnce(t, kind, map[string]bool{"GET root": true})
			ctx := context.Background()
			data := bytes.Repeat([]byte("shard line\n"), 5000)
			obj := put(t, b, "root", string(data), PutOptions{})
			got, etag, err := b.Read(ctx, "root")
			if err != nil || !bytes.Equal(got, data) || etag != obj.ETag {
				t.Fatalf("Read = %d bytes, %q, %v; want the whole %d bytes, %q", len(got), etag, err, len(data), obj.ETag)
			}
			if n := count(http.MethodGet, "root"); n != 2 {
				t.Errorf("%d GETs, want 2 (the cut one, then the whole one)", n)
			}
			if _, _, err := b.Read(ctx, "missing"); !errors.Is(err, ErrNotExist) || count(http.MethodGet, "missing") != 1 {
				t.Errorf("Read(missing) = %v after %d GETs; want ErrNotExist after one", err, count(http.MethodGet, "missing"))
			}
		})
	}
}

// TestS3Put429 (VersityGW through the fault proxy): the first PutObject and
// the first HeadObject of a key are answered 429 with a code the SDK does
// not list; both succeed when sent again. A 412 is not retried.
func TestS3Put429(t *testing.T) {
	b, count := faultOnce(t, faultproxy.TooMany, map[string]bool{"PUT k": true, "HEAD k": true})
	ctx := context.Background()
	if _, err := b.Put(ctx, "k", strings.NewReader("hello"), PutOptions{Size: 5}); err != nil {
		t.Fatalf("Put after a 429: %v", err)
	}
	if n := count(http.MethodPut, "k"); n != 2 {
		t.Errorf("%d PUTs, want 2", n)
	}
	if obj, err := b.Stat(ctx, "k"); err != nil || obj.Size != 5 {
		t.Errorf("Stat after a 429 = %+v, %v", obj, err)
	}
	if n := count(http.MethodHead, "k"); n != 2 {
		t.Errorf("%d HEADs, want 2", n)
	}
	if _, err := b.Put(ctx, "k", strings.NewReader("again"), PutOptions{IfNoneMatch: true}); !errors.Is(err, ErrPreconditionFailed) {
		t.Errorf("Put(If-None-Match on an existing key) = %v, want ErrPreconditionFailed", err)
	}
	if n := count(http.MethodPut, "k"); n != 3 {
		t.Errorf("%d PUTs, want 3 (the 412 once)", n)
	}
}
