package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileVariantCapabilities: ?metadata=skip declares that objects keep no
// attributes; everything else about file:// stays as declared, including
// the reserved ".attrs" names (fileblob refuses them in both variants).
func TestFileVariantCapabilities(t *testing.T) {
	dir := t.TempDir()
	with := open(t, "file://"+dir, Options{}).Capabilities()
	without := open(t, "file://"+dir+"?metadata=skip", Options{}).Capabilities()
	if !with.StoresAttributes || without.StoresAttributes {
		t.Fatalf("StoresAttributes: default %v, metadata=skip %v; want true, false", with.StoresAttributes, without.StoresAttributes)
	}
	without.StoresAttributes = true
	if with.CAS != without.CAS || with.LocalWrites != without.LocalWrites || len(without.ReservedSuffixes) != 1 ||
		without.ReservedSuffixes[0] != ".attrs" {
		t.Errorf("metadata=skip changed other capabilities: %+v vs %+v", without, with)
	}
	if c, _ := SchemeCapabilities("file"); !c.StoresAttributes {
		t.Error("SchemeCapabilities(file) is not the default variant (with side files)")
	}
	b := open(t, "file://"+dir+"?metadata=skip", Options{})
	if _, err := b.Put(context.Background(), "x.attrs", strings.NewReader("x"), PutOptions{}); err == nil {
		t.Error("Put of a .attrs name succeeded on file://?metadata=skip")
	}
}

// TestSkipRemovesStaleSideFile: a key written with side files and then
// rewritten with ?metadata=skip loses its side file, so that a later run
// with side files cannot read the old content's ghsync-blob or MD5 as the
// new content's (repo sync adopts objects by them).
func TestSkipRemovesStaleSideFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	side := open(t, "file://"+dir, Options{})
	put(t, side, "a.txt", "old", PutOptions{Metadata: map[string]string{"ghsync-blob": "old-sha"}})
	if _, err := os.Stat(filepath.Join(dir, "a.txt.attrs")); err != nil {
		t.Fatalf("the default variant wrote no side file: %v", err)
	}
	skip := open(t, "file://"+dir+"?metadata=skip", Options{})
	put(t, skip, "a.txt", "new", PutOptions{Metadata: map[string]string{"ghsync-blob": "new-sha"}})
	if _, err := os.Stat(filepath.Join(dir, "a.txt.attrs")); !os.IsNotExist(err) {
		t.Fatalf("side file after a write without side files: %v; want it removed", err)
	}
	st, err := side.Stat(ctx, "a.txt")
	if err != nil {
		t.Fatal(err)
	}
	if st.Metadata["ghsync-blob"] != "" || st.MD5 != nil {
		t.Errorf("Stat with side files after the rewrite = metadata %v, MD5 %x; want none (stale)", st.Metadata, st.MD5)
	}
}
