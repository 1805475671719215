package storetest

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ghsync/ghsync/internal/store"
)

// putWithAttributes writes objects with every attribute Put takes and
// returns the metadata as the store must report it (keys lowercased).
func putWithAttributes(t *testing.T, b *store.Bucket) (html, png store.Object, wantMD map[string]string) {
	t.Helper()
	md := map[string]string{"ghsync-blob": "0123abcd", "Note": "a value with spaces/slashes & ümlauts %20", "x.y_z": "1"}
	html = Put(t, b, "dir/index.html", "<html>hi</html>", store.PutOptions{
		ContentType: "text/html; charset=utf-8", CacheControl: "no-cache", Metadata: md,
	})
	// No content type given: sniffed from the body where attributes are kept.
	png = Put(t, b, "img.bin", "\x89PNG\r\n\x1a\n0000", store.PutOptions{Metadata: map[string]string{"k": "v"}})
	return html, png, map[string]string{"ghsync-blob": "0123abcd", "note": md["Note"], "x.y_z": "1"}
}

// testAttributes: on a scheme that declares StoresAttributes, the content
// type (given or sniffed), cache control and metadata round-trip through
// Put, Stat and gocloud's own reader.
func testAttributes(t *testing.T, be Backend) {
	ctx := context.Background()
	b := Open(t, be.URL(t, "site/v1/"), store.Options{})
	if !b.Capabilities().StoresAttributes {
		t.Skipf("%s (%s) declares Capabilities.StoresAttributes = false: objects keep no content type, cache control or metadata; NoAttributes checks that instead",
			be.Name, b.URL())
	}
	got, png, wantMD := putWithAttributes(t, b)
	st, err := b.Stat(ctx, "dir/index.html")
	if err != nil {
		t.Fatal(err)
	}
	if st.ContentType != "text/html; charset=utf-8" || got.ContentType != st.ContentType {
		t.Errorf("content type: Stat %q, Put %q; want text/html; charset=utf-8", st.ContentType, got.ContentType)
	}
	if d := cmp.Diff(wantMD, st.Metadata); d != "" {
		t.Errorf("metadata round trip (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantMD, got.Metadata); d != "" {
		t.Errorf("Put's returned metadata (-want +got):\n%s", d)
	}
	if st, _ := b.Stat(ctx, "img.bin"); st.ContentType != "image/png" || png.ContentType != "image/png" {
		t.Errorf("sniffed content type = %q / %q, want image/png", st.ContentType, png.ContentType)
	}
	// Cache-Control survives, and a streaming read reports the same
	// attributes (where its response carries them).
	if st.CacheControl != "no-cache" {
		t.Errorf("Stat's CacheControl = %q, want no-cache", st.CacheControl)
	}
	r, err := b.NewReader(ctx, "dir/index.html")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if o := r.Object(); o.ContentType != st.ContentType || o.ETag != st.ETag || o.Size != st.Size {
		t.Errorf("NewReader's object = %+v, want the content type, ETag and size of Stat %+v", o, st)
	} else if len(o.Metadata) > 0 && cmp.Diff(wantMD, o.Metadata) != "" {
		t.Errorf("metadata as the read reports it (-want +got):\n%s", cmp.Diff(wantMD, o.Metadata))
	}
}

// testNoAttributes: on a scheme that declares StoresAttributes = false, Put
// still checks the attributes it is given (a bad metadata key is an error)
// but stores none, and no call reports any: Put, Stat and List show no
// content type, metadata or MD5, while body, size and ETag are kept. On
// file:// the directory holds exactly one file per object.
func testNoAttributes(t *testing.T, be Backend) {
	ctx := context.Background()
	root := be.Root(t)
	b := Open(t, WithPrefix(t, root, "site/v1/"), store.Options{})
	if b.Capabilities().StoresAttributes {
		t.Skipf("%s (%s) declares Capabilities.StoresAttributes: Attributes checks the round trip instead", be.Name, b.URL())
	}
	html, png, _ := putWithAttributes(t, b)
	for _, o := range []store.Object{html, png} {
		st, err := b.Stat(ctx, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		for who, got := range map[string]store.Object{"Put": o, "Stat": st} {
			if got.ContentType != "" || len(got.Metadata) != 0 || got.MD5 != nil {
				t.Errorf("%s(%s) reports attributes the store does not keep: content type %q, metadata %v, MD5 %x",
					who, o.Key, got.ContentType, got.Metadata, got.MD5)
			}
		}
		if st.ETag != o.ETag || st.Size != o.Size {
			t.Errorf("Stat(%s) = ETag %s size %d; Put said %s, %d", o.Key, st.ETag, st.Size, o.ETag, o.Size)
		}
	}
	for k, o := range ListAll(t, b) {
		if o.MD5 != nil {
			t.Errorf("List reports MD5 %x for %s", o.MD5, k)
		}
	}
	if _, err := b.Put(ctx, "k", strings.NewReader("x"), store.PutOptions{Metadata: map[string]string{"bad key": "v"}}); err == nil {
		t.Error("Put with metadata key containing a space succeeded")
	}
	if be.Scheme == "file" {
		// A directory where the side file of "blocked" would go (the key
		// "blocked.attrs/inside.txt" is a file in it): a write that tried
		// to create the side file would fail; this one must not try.
		dir := FileDir(t, root)
		inside := filepath.Join(dir, "site", "v1", "blocked.attrs", "inside.txt")
		if err := os.MkdirAll(filepath.Dir(inside), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(inside, []byte("in"), 0o644); err != nil {
			t.Fatal(err)
		}
		Put(t, b, "blocked", "no side file", store.PutOptions{Metadata: map[string]string{"k": "v"}})
		var files []string
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				files = append(files, filepath.ToSlash(rel))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"site/v1/blocked", "site/v1/blocked.attrs/inside.txt", "site/v1/dir/index.html", "site/v1/img.bin"}
		if d := cmp.Diff(want, files); d != "" {
			t.Errorf("files on disk (-want +got): one file per object, no side files:\n%s", d)
		}
	}
}
