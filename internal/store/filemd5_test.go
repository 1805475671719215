package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A file:// object with no attribute record (written by another tool, or
// copied without extended attributes) gets the MD5 of its content from
// Stat, so that a folder mirror whose manifest was lost can be adopted by
// content; one ghsync wrote with its attributes keeps the record and is not
// read, and with ?metadata=skip (no attributes) no MD5 is reported.
func TestFileStatMD5WithoutRecord(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := open(t, "file://"+dir, Options{})
	if !b.Capabilities().StoresAttributes {
		t.Skip("no extended attributes on this file system")
	}
	if err := os.MkdirAll(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := "written by cp, no extended attributes"
	if err := os.WriteFile(filepath.Join(dir, "d", "plain.txt"), []byte(plain), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := b.Stat(ctx, "d/plain.txt")
	if want := md5.Sum([]byte(plain)); err != nil || !bytes.Equal(st.MD5, want[:]) {
		t.Errorf("Stat of a file with no record: MD5 %x, %v; want %x", st.MD5, err, want)
	}
	skip := open(t, "file://"+dir+"?metadata=skip", Options{})
	if st, err := skip.Stat(ctx, "d/plain.txt"); err != nil || st.MD5 != nil {
		t.Errorf("Stat with ?metadata=skip: MD5 %x, %v; want none", st.MD5, err)
	}
	put(t, b, "recorded.txt", strings.Repeat("x", 10), PutOptions{Metadata: map[string]string{"ghsync-blob": "abc"}})
	st, err = b.Stat(ctx, "recorded.txt")
	if err != nil || st.Metadata["ghsync-blob"] != "abc" || st.MD5 != nil {
		t.Errorf("Stat of an object with its record: %+v, %v; want its metadata and no MD5 read", st, err)
	}
}
