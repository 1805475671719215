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
// with ?metadata=skip) gets the MD5 of its content from Stat, so that a
// folder mirror whose manifest was lost can be adopted by content; one
// ghsync wrote with its attributes keeps the record and is not read.
func TestFileStatMD5WithoutRecord(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := "written by cp, no extended attributes"
	if err := os.WriteFile(filepath.Join(dir, "d", "plain.txt"), []byte(plain), 0o644); err != nil {
		t.Fatal(err)
	}
	skip := open(t, "file://"+dir+"?metadata=skip", Options{})
	put(t, skip, "skipped.txt", "put with metadata=skip", PutOptions{})
	for _, c := range []struct{ key, body string }{{"d/plain.txt", plain}, {"skipped.txt", "put with metadata=skip"}} {
		for _, q := range []string{"", "?metadata=skip"} {
			b := open(t, "file://"+dir+q, Options{})
			st, err := b.Stat(ctx, c.key)
			if err != nil {
				t.Fatalf("Stat %s%s: %v", c.key, q, err)
			}
			want := md5.Sum([]byte(c.body))
			if !bytes.Equal(st.MD5, want[:]) {
				t.Errorf("Stat %s (file://%s): MD5 %x, want %x", c.key, q, st.MD5, want)
			}
		}
	}
	b := open(t, "file://"+dir, Options{})
	if !b.Capabilities().StoresAttributes {
		t.Skip("no extended attributes on this file system")
	}
	put(t, b, "recorded.txt", strings.Repeat("x", 10), PutOptions{Metadata: map[string]string{"ghsync-blob": "abc"}})
	st, err := b.Stat(ctx, "recorded.txt")
	if err != nil || st.Metadata["ghsync-blob"] != "abc" || st.MD5 != nil {
		t.Errorf("Stat of an object with its record: %+v, %v; want its metadata and no MD5 read", st, err)
	}
}
