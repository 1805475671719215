package store

import (
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// file://?metadata=sidecar: the file driver (file.go) with sidecar set keeps
// an object's attributes in a side file NAME.attrs beside it, in the format
// gocloud's fileblob wrote (legacyAttrs: JSON with "user.content_type",
// "user.cache_control", "user.content_encoding", "user.metadata" and the
// content's "md5"), and stores a key under fileblob's file name for it
// (fileName: gocloud's escape form "__0x…__" in a key is escaped), so
// folders written by fileblob — the default before — and by this driver
// are read and written by either. Names ending in ".attrs" are reserved
// (fileSidecarCaps): they are never objects, and listings leave them out.
// Unlike fileblob, the side file is replaced with a rename (never truncated
// in place), so a concurrent read sees the old record or the new one.

// attrsExt is the suffix of side files (NAME.attrs).
const attrsExt = ".attrs"

// fileTemp matches the temporary files the file driver (and fileblob)
// writes next to their final name while an upload is in flight.
var fileTemp = regexp.MustCompile(`\.[0-9a-f]{8,16}\.tmp$`)

// fileName returns the file name fileblob gives key, relative to its root:
// for keys CheckKey accepts, only gocloud's escape-like sequences differ.
func fileName(key string) string {
	return hexEscape(key, func([]rune, int) bool { return false })
}

// sideHash returns a hash of the content written through w when the
// driver keeps side files (their record holds the content's MD5), else w
// itself and nil.
func (d *fileDriver) sideHash(w io.Writer) (io.Writer, hash.Hash) {
	if !d.sidecar {
		return w, nil
	}
	h := md5.New()
	return io.MultiWriter(w, h), h
}

// writeSide writes a, with the content's MD5, as the side file of the
// object file final: to a temporary file, renamed into place.
func writeSide(final string, a fileAttrs, sum []byte) error {
	rec := legacyAttrs{ContentType: a.ContentType, CacheControl: a.CacheControl,
		ContentEncoding: a.ContentEncoding, Metadata: a.Metadata, MD5: sum}
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode the side file of %s: %w", final, err)
	}
	f, tmp, err := createTemp(final + attrsExt)
	if err != nil {
		return err
	}
	_, err = f.Write(append(data, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final+attrsExt)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write the side file of %s: %w", final, err)
	}
	return nil
}

// sideAttrs returns the attributes and MD5 recorded in path's side file.
// An object without one reads as fileblob read it: content type
// application/octet-stream, nothing else.
func sideAttrs(path string) (fileAttrs, []byte) {
	l, ok := legacy(path)
	if !ok {
		return fileAttrs{ContentType: "application/octet-stream"}, nil
	}
	return fileAttrs{ContentType: l.ContentType, CacheControl: l.CacheControl,
		ContentEncoding: l.ContentEncoding, Metadata: l.Metadata}, l.MD5
}

// removeSide removes path's side file; a missing one is not an error.
func removeSide(path string) error {
	if err := os.Remove(path + attrsExt); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the side file of %s: %w", path, err)
	}
	return nil
}

// sideKey returns the key of the file at rel (relative to the root, slash
// separated) for the sidecar layout, and false for side files.
func sideKey(rel string) (string, bool) {
	if filepath.Ext(rel) == attrsExt {
		return "", false
	}
	return hexUnescape(rel), true
}
