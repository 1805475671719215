package store

import (
	"context"
	"crypto/md5"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestSidecarReadsFileblobFolder: a folder written by gocloud's fileblob
// (testdata/fileblob-sidecar, written by file://?metadata=sidecar before it
// was ghsync's own driver: see testdata/README.md) lists, reads and stats
// with its attributes and MD5s through ?metadata=sidecar, keys holding the
// escape form "__0x…__" under their own names; the default driver adopts
// the same folder with the same attributes.
func TestSidecarReadsFileblobFolder(t *testing.T) {
	ctx := context.Background()
	want := map[string]Object{
		"index.html": {ContentType: "text/html; charset=utf-8", CacheControl: "no-cache",
			Metadata: map[string]string{"ghsync-blob": "8f3b5c0e6a1d2f4b7c9e0a1b2c3d4e5f60718293"}},
		"assets/app.css":             {ContentType: "text/css", CacheControl: "public, max-age=31536000, immutable"},
		"status/latest.json":         {ContentType: "application/json", ContentEncoding: "gzip"},
		"link":                       {ContentType: "text/plain; charset=utf-8", Metadata: map[string]string{"ghsync-symlink": "true"}},
		"has__0x41__.txt":            {ContentType: "text/plain; charset=utf-8", Metadata: map[string]string{"note": "héllo wörld"}},
		"dir/100% sure #1 what?.txt": {ContentType: "text/plain; charset=utf-8"},
		"sniffed":                    {ContentType: "text/plain; charset=utf-8"},
	}
	for _, q := range []string{"?metadata=sidecar", ""} {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "fileblob-sidecar"))); err != nil {
			t.Fatal(err)
		}
		b := open(t, "file://"+dir+q, Options{})
		listed := listAll(t, b)
		if got := slices.Sorted(maps.Keys(listed)); !slices.Equal(got, slices.Sorted(maps.Keys(want))) && q != "" {
			t.Fatalf("file://%s lists %q, want %q", q, got, slices.Sorted(maps.Keys(want)))
		}
		for key, w := range want {
			if q == "" && key == "has__0x41__.txt" {
				continue // the default driver stores keys verbatim: this one is the file has__0x5f___0x41__.txt there
			}
			data, etag, err := b.Read(ctx, key)
			if err != nil {
				t.Fatalf("file://%s: Read(%s): %v", q, key, err)
			}
			st, err := b.Stat(ctx, key)
			if err != nil {
				t.Fatalf("file://%s: Stat(%s): %v", q, key, err)
			}
			sum := md5.Sum(data)
			if w.Metadata == nil {
				w.Metadata = map[string]string{}
			}
			if st.ContentType != w.ContentType || st.CacheControl != w.CacheControl || st.ContentEncoding != w.ContentEncoding ||
				!maps.Equal(st.Metadata, w.Metadata) || string(st.MD5) != string(sum[:]) || st.ETag != etag || listed[key].ETag != etag {
				t.Errorf("file://%s: Stat(%s) = %+v; want attributes %+v, MD5 %x, ETag %s (listed %s)", q, key, st, w, sum, etag, listed[key].ETag)
			}
			r, err := b.NewReader(ctx, key)
			if err != nil {
				t.Fatalf("file://%s: NewReader(%s): %v", q, key, err)
			}
			streamed, err := io.ReadAll(r)
			_ = r.Close()
			if err != nil || string(streamed) != string(data) || r.Object().ContentType != w.ContentType {
				t.Errorf("file://%s: NewReader(%s) = %q (%s), %v; want %q (%s)", q, key, streamed, r.Object().ContentType, err, data, w.ContentType)
			}
		}
	}
}

// TestSidecarWritesFileblobRecords: what ?metadata=sidecar writes is
// fileblob's layout — the escaped file name and a NAME.attrs record the
// default driver (and fileblob) reads as a side file — and a delete removes
// both files.
func TestSidecarWritesFileblobRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := open(t, "file://"+dir+"?metadata=sidecar", Options{})
	put(t, b, "a/has__0x41__.txt", "body", PutOptions{ContentType: "text/x-test", Metadata: map[string]string{"ghsync-blob": "sha"}})
	name := filepath.Join(dir, "a", "has__0x5f___0x41__.txt")
	l, ok := legacy(name)
	sum := md5.Sum([]byte("body"))
	if !ok || l.ContentType != "text/x-test" || l.Metadata["ghsync-blob"] != "sha" || string(l.MD5) != string(sum[:]) {
		t.Fatalf("side file of %s: %+v (a record: %v)", name, l, ok)
	}
	if err := b.Delete(ctx, []string{"a/has__0x41__.txt"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{name, name + attrsExt} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s after Delete: %v", p, err)
		}
	}
}
