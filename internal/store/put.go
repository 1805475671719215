package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
)

// Put streams r into the object key and returns the object as the store
// recorded it, including the ETag the store returned for this upload (on s3://,
// gs:// and azblob:// taken from the upload's response, so a multipart S3
// upload yields a "…-N" ETag; file:// takes it from one stat of the written
// file, mem:// reads it back with one HEAD; both count as a "head" request).
// The body's first part is read into a buffer sized to it (pooled per Bucket
// up to 1 MiB), so a small object costs a small buffer. Memory is bounded by
// (Concurrency+1) × PartSize per Put. MD5 is set only where the write's
// response carries it (S3 single-request uploads, GCS).
//
// With o.IfMatch the write happens only if the object's current ETag equals
// o.IfMatch; with o.IfNoneMatch only if the object does not exist. When the
// condition fails nothing is written and the error matches
// ErrPreconditionFailed (and also ErrNotExist for IfMatch on a missing object).
// Conditional writes are atomic on every scheme (see Capabilities.CAS).
//
// Where Capabilities.StoresAttributes is false (file:// with ?metadata=skip)
// the content type, cache control, content encoding and metadata are checked
// as everywhere but not stored, and the returned Object carries none.
//
// The body is checked before anything becomes visible (checkedBody): with
// o.Size > 0 a body holding fewer or more bytes fails with ErrBodySize, and a
// body whose read fails (a connection reset, an HTTP body cut before its
// Content-Length) fails with ErrBodyCut, on every scheme; in both cases
// nothing is written and an object already at key is left unchanged.
//
// A key the scheme cannot store (Bucket.CheckKey) fails with ErrUnstorable.
// On S3 the returned ModTime is zero (the upload response does not carry it).
func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	if err := b.CheckKey(key); err != nil {
		return Object{}, fmt.Errorf("put: %w", err)
	}
	if err := b.live(); err != nil {
		return Object{}, fmt.Errorf("put %s: %w", key, err)
	}
	if o.IfMatch != "" && o.IfNoneMatch {
		return Object{}, fmt.Errorf("put %s: IfMatch and IfNoneMatch are mutually exclusive", b.full(key))
	}
	md, err := normMetadata(o.Metadata)
	if err != nil {
		return Object{}, fmt.Errorf("put %s: %w", b.full(key), err)
	}
	o.Metadata = md
	if o.ContentType != "" {
		ct, err := b.ctypes.normalize(o.ContentType)
		if err != nil {
			return Object{}, fmt.Errorf("put %s: content type %q: %w", b.full(key), o.ContentType, err)
		}
		o.ContentType = ct
	}
	conditional := o.IfMatch != "" || o.IfNoneMatch
	want := int64(-1)
	if o.Size > 0 {
		want = o.Size
	}
	obj, err := b.drv.put(ctx, b.full(key), newCheckedBody(r, want), o)
	if err != nil {
		err = withURL(classify(err), b.url)
		if conditional && errors.Is(err, ErrNotExist) && !errors.Is(err, ErrPreconditionFailed) {
			err = fmt.Errorf("%w: %w", ErrPreconditionFailed, err)
		}
		return Object{}, fmt.Errorf("put %s: %w", b.full(key), err)
	}
	obj.Key = key
	b.log.Debug("put", "key", b.full(key), "size", obj.Size, "etag", obj.ETag)
	return obj, nil
}

// normMetadata lowercases keys (as every store does) and rejects keys that
// are not portable header names.
func normMetadata(in map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for k, v := range in {
		lk := strings.ToLower(k)
		if lk == "" {
			return nil, errors.New("empty metadata key")
		}
		for _, c := range lk {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return nil, fmt.Errorf("metadata key %q: only letters, digits, - _ . are allowed", k)
			}
		}
		if _, dup := out[lk]; dup {
			return nil, fmt.Errorf("metadata key %q given twice (keys are case-insensitive)", k)
		}
		out[lk] = v
	}
	return out, nil
}

// sniffType detects a content type from a body's first bytes (at most 512
// are looked at), as gocloud's writer does when none is given.
func sniffType(body []byte) string {
	return http.DetectContentType(body[:min(len(body), 512)])
}

// ctypeCache remembers normalised content types: a sync writes many objects
// with the same few types, and parsing one costs more than a small object's
// other bookkeeping. It holds at most maxCachedTypes entries.
type ctypeCache struct {
	mu sync.Mutex
	m  map[string]string
}

const maxCachedTypes = 256

// normalize parses a media type and formats it canonically (lower-case type,
// parameters sorted and quoted as needed).
func (c *ctypeCache) normalize(raw string) (string, error) {
	c.mu.Lock()
	v, ok := c.m[raw]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	mt, params, err := mime.ParseMediaType(raw)
	if err != nil {
		return "", err
	}
	v = mime.FormatMediaType(mt, params)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	if len(c.m) < maxCachedTypes {
		c.m[raw] = v
	}
	return v, nil
}

// conditionHolds checks o's condition against an object's existence and ETag.
func conditionHolds(o PutOptions, exists bool, etag string) error {
	switch {
	case o.IfNoneMatch && exists:
		return fmt.Errorf("%w: object exists (ETag %s)", ErrPreconditionFailed, etag)
	case o.IfMatch != "" && !exists:
		return fmt.Errorf("%w: If-Match %s: %w", ErrPreconditionFailed, o.IfMatch, ErrNotExist)
	case o.IfMatch != "" && normETag(etag) != normETag(o.IfMatch):
		return fmt.Errorf("%w: If-Match %s but current ETag is %s", ErrPreconditionFailed, o.IfMatch, etag)
	}
	return nil
}
