package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileVariantCapabilities: file:// stores every key under its own name
// by default and with ?metadata=skip (which keeps no attributes); only
// ?metadata=sidecar (fileblob's NAME.attrs side files) reserves ".attrs".
func TestFileVariantCapabilities(t *testing.T) {
	dir := t.TempDir()
	def := open(t, "file://"+dir, Options{}).Capabilities()
	skip := open(t, "file://"+dir+"?metadata=skip", Options{}).Capabilities()
	side := open(t, "file://"+dir+"?metadata=sidecar", Options{}).Capabilities()
	if !def.StoresAttributes || skip.StoresAttributes || !side.StoresAttributes {
		t.Fatalf("StoresAttributes: default %v, skip %v, sidecar %v; want true, false, true", def.StoresAttributes, skip.StoresAttributes, side.StoresAttributes)
	}
	if len(def.ReservedSuffixes) != 0 || len(skip.ReservedSuffixes) != 0 || !def.VerbatimKeys || !skip.VerbatimKeys {
		t.Errorf("default or skip reserve names or escape keys: %+v / %+v", def, skip)
	}
	if len(side.ReservedSuffixes) != 1 || side.ReservedSuffixes[0] != ".attrs" || side.VerbatimKeys {
		t.Errorf("sidecar: %+v; want .attrs reserved and keys not verbatim", side)
	}
	if c, _ := SchemeCapabilities("file"); !c.StoresAttributes || len(c.ReservedSuffixes) != 0 {
		t.Errorf("SchemeCapabilities(file) = %+v, not the default variant", c)
	}
	for _, q := range []string{"", "?metadata=skip"} {
		b := open(t, "file://"+dir+q, Options{})
		if _, err := b.Put(context.Background(), "x.attrs", strings.NewReader("x"), PutOptions{}); err != nil {
			t.Errorf("Put of a .attrs name on file://%s: %v", q, err)
		}
	}
	b := open(t, "file://"+dir+"?metadata=sidecar", Options{})
	if _, err := b.Put(context.Background(), "y.attrs", strings.NewReader("x"), PutOptions{}); err == nil {
		t.Error("Put of a .attrs name succeeded on file://?metadata=sidecar")
	}
}

// TestRewriteRemovesStaleSideFile: a key written with side files and then
// rewritten by the default driver (or with ?metadata=skip) loses its side
// file, so that no later read takes the old content's ghsync-blob or MD5 for
// the new content's (repo sync adopts objects by them).
func TestRewriteRemovesStaleSideFile(t *testing.T) {
	for _, q := range []string{"", "?metadata=skip"} {
		ctx := context.Background()
		dir := t.TempDir()
		side := open(t, "file://"+dir+"?metadata=sidecar", Options{})
		put(t, side, "a.txt", "old", PutOptions{Metadata: map[string]string{"ghsync-blob": "old-sha"}})
		if _, err := os.Stat(filepath.Join(dir, "a.txt.attrs")); err != nil {
			t.Fatalf("the sidecar variant wrote no side file: %v", err)
		}
		b := open(t, "file://"+dir+q, Options{})
		put(t, b, "a.txt", "new", PutOptions{Metadata: map[string]string{"ghsync-blob": "new-sha"}})
		if _, err := os.Stat(filepath.Join(dir, "a.txt.attrs")); !os.IsNotExist(err) {
			t.Fatalf("file://%s: side file after a rewrite: %v; want it removed", q, err)
		}
		st, err := side.Stat(ctx, "a.txt")
		if err != nil {
			t.Fatal(err)
		}
		if st.Metadata["ghsync-blob"] == "old-sha" || st.MD5 != nil {
			t.Errorf("file://%s: Stat with side files after the rewrite = metadata %v, MD5 %x; want none (stale)", q, st.Metadata, st.MD5)
		}
	}
}

// TestFileAdoptsSideFileFolder: a folder written with side files (the
// default before) reads as the same objects through the default driver: the
// side files are not listed, ETags are unchanged, Stat reports the
// attributes the side files hold, a file named x.attrs that is not a side
// file is an object, and deleting an object removes its side file.
func TestFileAdoptsSideFileFolder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old := open(t, "file://"+dir+"?metadata=sidecar", Options{})
	a := put(t, old, "d/a.txt", "aaa", PutOptions{ContentType: "text/plain", Metadata: map[string]string{"ghsync-blob": "sha-a"}})
	put(t, old, "b.bin", "bbbb", PutOptions{})
	// A source file called x.attrs next to x, written as plain files.
	for n, body := range map[string]string{"x": "x", "x.attrs": "not a side file"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := open(t, "file://"+dir, Options{})
	got := listAll(t, b)
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	if len(got) != 4 || got["d/a.txt"].ETag != a.ETag || got["x.attrs"].Size != int64(len("not a side file")) {
		t.Fatalf("listing %q (%+v); want d/a.txt (ETag %s), b.bin, x, x.attrs and no side file", keys, got, a.ETag)
	}
	st, err := b.Stat(ctx, "d/a.txt")
	if err != nil || st.ContentType != "text/plain" || st.Metadata["ghsync-blob"] != "sha-a" || st.ETag != a.ETag {
		t.Fatalf("Stat(d/a.txt) = %+v, %v; want the side file's attributes and ETag %s", st, err, a.ETag)
	}
	if err := b.Delete(ctx, []string{"d/a.txt"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "d", "a.txt.attrs")); !os.IsNotExist(err) {
		t.Errorf("side file after delete: %v; want it removed", err)
	}
}

// TestFileOneFilePerObject: the default file:// destination holds exactly
// one file per object, named as the key, and keeps the attributes in an
// extended attribute.
func TestFileOneFilePerObject(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := open(t, "file://"+dir, Options{})
	if !b.Capabilities().StoresAttributes {
		t.Skip("this file system keeps no extended attributes")
	}
	keys := []string{"a b/c#d%e?.txt", "esc/a__0x41__b", "cfg.attrs", "cfg"}
	for _, k := range keys {
		put(t, b, k, k, PutOptions{ContentType: "text/csv", Metadata: map[string]string{"ghsync-blob": "sha"}})
	}
	var files []string
	if err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(files) != len(keys) {
		t.Fatalf("folder holds %q; want exactly %q", files, keys)
	}
	for _, k := range keys {
		if data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(k))); err != nil || string(data) != k {
			t.Errorf("file %q: %q %v", k, data, err)
		}
		if st, err := b.Stat(ctx, k); err != nil || st.ContentType != "text/csv" || st.Metadata["ghsync-blob"] != "sha" {
			t.Errorf("Stat(%q) = %+v, %v; want the attributes back", k, st, err)
		}
	}
}

// TestClosedBucketFails: every operation on a closed bucket fails with
// ErrClosed, on every scheme's driver (the webhook archive relies on it to
// notice a store that is down).
func TestClosedBucketFails(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{"mem://closed-test", "file://" + t.TempDir(), "file://" + t.TempDir() + "?metadata=sidecar"} {
		b := open(t, u, Options{})
		put(t, b, "k", "v", PutOptions{})
		_ = b.Close()
		if _, err := b.Put(ctx, "k2", strings.NewReader("v"), PutOptions{}); !errors.Is(err, ErrClosed) {
			t.Errorf("%s: Put after Close = %v; want ErrClosed", u, err)
		}
		if _, _, err := b.Read(ctx, "k"); !errors.Is(err, ErrClosed) {
			t.Errorf("%s: Read after Close = %v; want ErrClosed", u, err)
		}
		if _, err := b.NewReader(ctx, "k"); !errors.Is(err, ErrClosed) {
			t.Errorf("%s: NewReader after Close = %v; want ErrClosed", u, err)
		}
		if err := b.List(ctx, func(Object) error { return nil }); !errors.Is(err, ErrClosed) {
			t.Errorf("%s: List after Close = %v; want ErrClosed", u, err)
		}
	}
}
