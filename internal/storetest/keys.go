package storetest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/store"
)

// longKey returns a key of exactly n bytes made of segments of at most 200
// bytes (file systems limit a name to 255 bytes).
func longKey(n int) string {
	var b strings.Builder
	for b.Len() < n {
		seg := min(200, n-b.Len())
		if b.Len() > 0 {
			b.WriteByte('/')
			seg = min(200, n-b.Len())
		}
		b.WriteString(strings.Repeat(string(rune('a'+b.Len()%26)), seg))
	}
	return b.String()
}

// RoundTripKeys are the awkward names every scheme must store under exactly
// their own name (or refuse loudly when it truly cannot).
func RoundTripKeys() []string {
	return []string{
		"with space/file name.txt",
		"unicode/héllo-世界-🙂.md",
		"pct/100%.txt",
		"pct/%41%2F%zz.txt",
		"plus/a+b c+.txt",
		"esc/has__0x41.txt",
		"esc/a__0x41__b.txt",
		"esc/__0x2f__",
		"attrs/config.attrs",
		"special/a#b?c&d=e;f@g!h'i(j)*k,l~m$n.txt",
		"special/quote\"and<angle>|pipe.txt",
		`special/back\slash.txt`,
		longKey(1000),
		strings.Repeat("x", 1000), // a 1,000-byte key of one segment
	}
}

// testKeyRoundTrip: every key of RoundTripKeys is put, listed and read back
// under exactly its own name, on every scheme that can store it. A key the
// scheme declares it cannot store (Bucket.CheckKey) must be refused with
// ErrUnstorable; one the server cannot store must fail loudly, never be
// stored under another name.
func testKeyRoundTrip(t *testing.T, be Backend) {
	ctx := context.Background()
	root := be.Root(t)
	b := Open(t, WithPrefix(t, root, "keys/"), store.Options{})
	want := map[string]store.Object{}
	for _, k := range RoundTripKeys() {
		body := "body of " + k
		if err := b.CheckKey(k); err != nil {
			if !errors.Is(err, store.ErrUnstorable) {
				t.Errorf("CheckKey(%.60q) = %v; want nil or ErrUnstorable", k, err)
				continue
			}
			loud(t, "%s:// cannot store %.60q: %v", be.Scheme, k, err)
			if _, err := b.Put(ctx, k, strings.NewReader(body), store.PutOptions{}); !errors.Is(err, store.ErrUnstorable) {
				t.Errorf("Put(%.60q) on %s = %v; want ErrUnstorable", k, be.Name, err)
			}
			continue
		}
		obj, err := b.Put(ctx, k, strings.NewReader(body), store.PutOptions{})
		if err == nil && be.MaxSegmentBytes > 0 && longestSegment(k) > be.MaxSegmentBytes {
			t.Errorf("Put(%.40q…) succeeded, but this %s:// server declares a %d-byte segment limit: update Backend.MaxSegmentBytes", k, be.Scheme, be.MaxSegmentBytes)
		}
		if err != nil {
			if be.MaxSegmentBytes > 0 && longestSegment(k) > be.MaxSegmentBytes {
				loud(t, "this %s:// server cannot store %.40q…: its %d-byte segment is longer than the %d bytes the server's file system allows (%.200v)",
					be.Scheme, k, longestSegment(k), be.MaxSegmentBytes, err)
				continue
			}
			t.Errorf("Put(%.60q): %v", k, err)
			continue
		}
		want[k] = obj
		data, etag, err := b.Read(ctx, k)
		if err != nil || string(data) != body || etag != obj.ETag {
			t.Errorf("Read(%.60q) = %q %s %v; want its body and ETag %s", k, data, etag, err, obj.ETag)
		}
	}
	got := ListAll(t, b)
	for k, o := range want {
		if g, ok := got[k]; !ok || g.ETag != o.ETag {
			t.Errorf("List lacks %.60q (ETag %s); got %+v", k, o.ETag, g)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("List has %.80q, which was never put (a key was changed on the way)", k)
		}
	}
	// What other tools see: the store's own listing (s3, gs, azblob list
	// through the SDK's client) or the file system holds the exact names.
	whole := ListAll(t, Open(t, root, store.Options{}))
	for k := range want {
		if _, ok := whole["keys/"+k]; !ok {
			t.Errorf("unprefixed listing lacks keys/%.60q", k)
		}
	}
	if raw, ok := rawNames(t, be.Scheme, root); ok {
		for k := range want {
			if !raw["keys/"+k] {
				t.Errorf("the server's own listing lacks keys/%.60q (the key was changed on the way): %v", k, raw)
			}
		}
		if len(raw) != len(want) {
			t.Errorf("the server's own listing has %d names, want %d: %v", len(raw), len(want), raw)
		}
	}
	if be.Scheme == "file" {
		dir := FileDir(t, root)
		for k := range want {
			if strings.Contains(k, "__0x") && !b.Capabilities().VerbatimKeys {
				continue // fileblob (?metadata=sidecar) escapes gocloud's escape form on disk (documented)
			}
			if _, err := os.Stat(filepath.Join(dir, "keys", filepath.FromSlash(k))); err != nil {
				t.Errorf("file for %.60q: %v", k, err)
			}
		}
	}
	// Deleting every key leaves nothing behind.
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	if err := b.Delete(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if left := ListAll(t, b); len(left) != 0 {
		t.Errorf("after delete %d keys are left: %v", len(left), left)
	}
}

func longestSegment(k string) int {
	n := 0
	for _, s := range strings.Split(k, "/") {
		n = max(n, len(s))
	}
	return n
}
