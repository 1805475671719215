package store

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// repoSyncAttrs are the attributes repo sync gives a small text file: a
// sniffed content type and its git blob SHA.
var repoSyncAttrs = PutOptions{ContentType: "text/plain; charset=utf-8",
	Metadata: map[string]string{"ghsync-blob": "95d09f2b10159347eece71399a7e2e907ea3df4f"}}

// On ext4 an object written with repo sync's attributes takes no more disk
// blocks than its content alone: the attribute record stays in the inode's
// 60 bytes instead of taking a 4 KiB block per file (the folder of 10,000
// small files of bench/reposync/smallfiles.sh used 80.9 MB against 40.4 MB
// for rclone's copy).
func TestFileAttrsStayInTheInode(t *testing.T) {
	if n := len(encodeAttrs(fileAttrs{ContentType: repoSyncAttrs.ContentType, Metadata: repoSyncAttrs.Metadata})); n > 60 {
		t.Errorf("repo sync's attributes encode to %d bytes; ext4 keeps 60 in a 256-byte inode", n)
	}
	dir := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil || fs.Type != unix.EXT4_SUPER_MAGIC {
		t.Skip("the temporary directory is not on ext4")
	}
	b := open(t, "file://"+dir, Options{})
	if !b.Capabilities().StoresAttributes {
		t.Skip("no extended attributes on this file system")
	}
	body := strings.Repeat("small file\n", 30)
	if err := os.WriteFile(filepath.Join(dir, "plain.txt"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	put(t, b, "object.txt", body, repoSyncAttrs)
	blocks := func(name string) int64 {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(dir, name), &st); err != nil {
			t.Fatal(err)
		}
		return st.Blocks
	}
	if got, plain := blocks("object.txt"), blocks("plain.txt"); got > plain {
		t.Errorf("object with attributes: %d blocks of 512 bytes, the same content without: %d", got, plain)
	}
	st, err := b.Stat(context.Background(), "object.txt")
	if err != nil || st.ContentType != repoSyncAttrs.ContentType || !reflect.DeepEqual(st.Metadata, repoSyncAttrs.Metadata) {
		t.Errorf("Stat: %+v, %v; want the attributes written", st, err)
	}
}

// Attributes come back as they were written, whatever they hold; the JSON
// records written before the compact form are still read.
func TestFileAttrsEncodingRoundTrip(t *testing.T) {
	long := strings.Repeat("ü/", 200)
	for _, a := range []fileAttrs{
		{},
		{ContentType: "text/html; charset=utf-8"},
		{ContentType: "a", CacheControl: "max-age=60", ContentEncoding: "gzip",
			Metadata: map[string]string{"ghsync-blob": "0123abcd", "ghsync-symlink": "true"}},
		{Metadata: map[string]string{
			"ghsync-blob": "ABCDEF",            // not lowercase: kept as text
			"sha":         "00ff",              // lowercase hex under another key
			"odd":         "abc",               // odd length: text
			"empty":       "",                  // empty value
			"Note":        long,                // over 127 bytes: two-byte lengths
			"x.y_z":       "a value & ümlauts", // anything else
		}},
		{Metadata: map[string]string{"ghsync-blob": strings.Repeat("ab", 32)}}, // SHA-256 size
	} {
		got, err := decodeAttrs(encodeAttrs(a))
		if err != nil || !reflect.DeepEqual(got, a) {
			t.Errorf("round trip of %+v: %+v, %v", a, got, err)
		}
		js, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := decodeAttrs(js); err != nil || !reflect.DeepEqual(got, a) {
			t.Errorf("JSON record %s: %+v, %v", js, got, err)
		}
	}
	for _, bad := range [][]byte{nil, {}, {2}, {attrsCompact, 't', 5, 'a'}, {attrsCompact, 'z', 0}, {attrsCompact, 'm', 1, 'k'}} {
		if _, err := decodeAttrs(bad); err == nil {
			t.Errorf("decodeAttrs(%q) succeeded", bad)
		} else if len(bad) > 0 && bad[0] == attrsCompact && !errors.Is(err, errAttrs) {
			t.Errorf("decodeAttrs(%q): %v, want errAttrs", bad, err)
		}
	}
}
