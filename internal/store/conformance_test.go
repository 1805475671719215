package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPutReadStatList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		b := open(t, be.url(t, "site/v1/"), Options{})
		if b.Prefix() != "site/v1/" {
			t.Fatalf("Prefix() = %q", b.Prefix())
		}
		md := map[string]string{"ghsync-blob": "0123abcd", "Note": "a value with spaces/slashes & ümlauts %20"}
		got := put(t, b, "dir/index.html", "<html>hi</html>", PutOptions{
			ContentType: "text/html; charset=utf-8", CacheControl: "no-cache", Metadata: md,
		})
		if got.ETag == "" || got.Size != 15 || got.Key != "dir/index.html" {
			t.Fatalf("Put returned %+v", got)
		}
		data, etag, err := b.Read(ctx, "dir/index.html")
		if err != nil || string(data) != "<html>hi</html>" || etag != got.ETag {
			t.Fatalf("Read = %q, %q, %v; want body and ETag %q", data, etag, err, got.ETag)
		}
		st, err := b.Stat(ctx, "dir/index.html")
		if err != nil {
			t.Fatal(err)
		}
		wantMD := map[string]string{"ghsync-blob": "0123abcd", "note": md["Note"]}
		if st.ETag != got.ETag || st.Size != 15 || st.ContentType != "text/html; charset=utf-8" {
			t.Errorf("Stat = %+v, want ETag %s size 15 text/html", st, got.ETag)
		}
		if d := cmp.Diff(wantMD, st.Metadata); d != "" {
			t.Errorf("metadata round trip (-want +got):\n%s", d)
		}
		if d := cmp.Diff(wantMD, got.Metadata); d != "" {
			t.Errorf("Put's returned metadata (-want +got):\n%s", d)
		}
		lst := listAll(t, b)
		if len(lst) != 1 || lst["dir/index.html"].ETag != got.ETag || lst["dir/index.html"].Size != 15 {
			t.Errorf("List = %+v, want one object with ETag %s", lst, got.ETag)
		}
		// Content type is sniffed when not given.
		png := put(t, b, "img.bin", "\x89PNG\r\n\x1a\n0000", PutOptions{})
		if st, _ := b.Stat(ctx, "img.bin"); st.ContentType != "image/png" || png.ContentType != "image/png" {
			t.Errorf("sniffed content type = %q / %q, want image/png", st.ContentType, png.ContentType)
		}
		// Cache-Control survives: read it through the escape hatch.
		a, err := b.Raw().Attributes(ctx, "dir/index.html")
		if err != nil || a.CacheControl != "no-cache" {
			t.Errorf("CacheControl = %q, %v", a.CacheControl, err)
		}
	})
}

func TestMissingAndBadKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		b := open(t, be.url(t, ""), Options{})
		if _, _, err := b.Read(ctx, "nope.txt"); !errors.Is(err, ErrNotExist) {
			t.Errorf("Read missing: %v, want ErrNotExist", err)
		}
		if _, err := b.Stat(ctx, "nope.txt"); !errors.Is(err, ErrNotExist) {
			t.Errorf("Stat missing: %v, want ErrNotExist", err)
		}
		if err := b.Delete(ctx, []string{"nope.txt", "a/b/c"}); err != nil {
			t.Errorf("Delete missing keys: %v", err)
		}
		for _, k := range []string{"", "/abs", "dir/", "a//b", "a/../b", "x.attrs", "bad\x00key"} {
			if _, err := b.Put(ctx, k, strings.NewReader("x"), PutOptions{}); err == nil {
				t.Errorf("Put(%q) succeeded; want a bad-key error", k)
			}
		}
		if _, err := b.Put(ctx, "k", strings.NewReader("x"), PutOptions{IfMatch: `"x"`, IfNoneMatch: true}); err == nil {
			t.Error("Put with IfMatch and IfNoneMatch succeeded")
		}
		if _, err := b.Put(ctx, "k", strings.NewReader("x"), PutOptions{Metadata: map[string]string{"bad key": "v"}}); err == nil {
			t.Error("Put with metadata key containing a space succeeded")
		}
	})
}

func TestConditionalWrites(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		b := open(t, be.url(t, "p/"), Options{})
		const key = ".ghsync/manifest.json"
		// IfMatch on a missing object fails.
		_, err := b.Put(ctx, key, strings.NewReader("v0"), PutOptions{IfMatch: `"0123"`})
		if !errors.Is(err, ErrPreconditionFailed) {
			t.Fatalf("IfMatch on missing: %v, want ErrPreconditionFailed", err)
		}
		// IfNoneMatch creates; a second IfNoneMatch fails and changes nothing.
		v1 := put(t, b, key, "v1", PutOptions{IfNoneMatch: true})
		_, err = b.Put(ctx, key, strings.NewReader("XX"), PutOptions{IfNoneMatch: true})
		if !errors.Is(err, ErrPreconditionFailed) {
			t.Fatalf("IfNoneMatch on existing: %v, want ErrPreconditionFailed", err)
		}
		// IfMatch with the current ETag succeeds and yields a new ETag.
		v2 := put(t, b, key, "v2", PutOptions{IfMatch: v1.ETag})
		if v2.ETag == v1.ETag {
			t.Fatalf("same-size rewrite kept ETag %s", v2.ETag)
		}
		// IfMatch with the stale ETag fails and changes nothing.
		_, err = b.Put(ctx, key, strings.NewReader("v3"), PutOptions{IfMatch: v1.ETag})
		if !errors.Is(err, ErrPreconditionFailed) {
			t.Fatalf("IfMatch stale: %v, want ErrPreconditionFailed", err)
		}
		data, etag, err := b.Read(ctx, key)
		if err != nil || string(data) != "v2" || etag != v2.ETag {
			t.Fatalf("after failed writes Read = %q %q %v; want v2 %s", data, etag, err, v2.ETag)
		}
		// A chain of fast same-size conditional rewrites: each must see a new ETag.
		prev := v2
		for i := range 20 {
			next := put(t, b, key, "w"+string(rune('a'+i)), PutOptions{IfMatch: prev.ETag})
			if next.ETag == prev.ETag {
				t.Fatalf("rewrite %d kept ETag %s", i, next.ETag)
			}
			prev = next
		}
		if st, err := b.Stat(ctx, key); err != nil || st.ETag != prev.ETag {
			t.Fatalf("Stat after chain = %v %v, want ETag %s", st.ETag, err, prev.ETag)
		}
	})
}

func TestDeleteAndPrefixIsolation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		root := be.url(t, "")
		a := open(t, withPrefixURL(t, be, root, "a/"), Options{})
		bb := open(t, withPrefixURL(t, be, root, "b/"), Options{})
		for _, k := range []string{"1", "2", "x/3"} {
			put(t, a, k, "A"+k, PutOptions{})
		}
		put(t, bb, "1", "B1", PutOptions{})
		if got := listAll(t, a); len(got) != 3 {
			t.Fatalf("prefix a lists %d objects, want 3: %v", len(got), got)
		}
		if err := a.Delete(ctx, []string{"1", "x/3", "missing"}); err != nil {
			t.Fatal(err)
		}
		if got := listAll(t, a); len(got) != 1 || got["2"].Key != "2" {
			t.Fatalf("after delete prefix a lists %v, want only 2", got)
		}
		if data, _, err := bb.Read(ctx, "1"); err != nil || string(data) != "B1" {
			t.Fatalf("prefix b object = %q %v, want B1", data, err)
		}
		whole := open(t, root, Options{})
		if got := listAll(t, whole); len(got) != 2 || got["a/2"].Key == "" || got["b/1"].Key == "" {
			t.Fatalf("unprefixed listing = %v, want a/2 and b/1", got)
		}
	})
}

// withPrefixURL adds a key prefix to a backend URL in the backend's own way.
func withPrefixURL(t *testing.T, be backend, root, prefix string) string {
	if be.name == "file" {
		return root + "?prefix=" + prefix
	}
	return withPath(t, root, prefix)
}

func TestStatsCounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		b := open(t, be.url(t, "s/"), Options{})
		put(t, b, "k", "hello", PutOptions{})
		if _, _, err := b.Read(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Stat(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		listAll(t, b)
		if err := b.Delete(ctx, []string{"k"}); err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"get": 1, "head": 1, "put": 1, "list": 1, "delete": 1, "multipart_part": 0}
		if be.name != "s3" {
			want["head"] = 2 // Put reads the ETag back with a HEAD
		}
		st := b.Stats()
		if d := cmp.Diff(want, st.Requests); d != "" {
			t.Errorf("Stats.Requests (-want +got):\n%s", d)
		}
		if st.BytesUploaded != 5 {
			t.Errorf("BytesUploaded = %d, want 5", st.BytesUploaded)
		}
	})
}
