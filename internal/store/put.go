package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Put streams r into the object key and returns the object as the store
// recorded it, including the ETag the store returned for this upload (on s3://,
// gs:// and azblob:// taken from the upload's response, so a multipart S3
// upload yields a "…-N" ETag; file:// and mem:// read it back with one HEAD).
// Memory is bounded by (Concurrency+1) × PartSize per Put.
//
// With o.IfMatch the write happens only if the object's current ETag equals
// o.IfMatch; with o.IfNoneMatch only if the object does not exist. When the
// condition fails nothing is written and the error matches
// ErrPreconditionFailed (and also ErrNotExist for IfMatch on a missing object).
// Conditional writes are atomic on every scheme (see Capabilities.CAS).
//
// A key the scheme cannot store (Bucket.CheckKey) fails with ErrUnstorable.
// On S3 the returned ModTime is zero (the upload response does not carry it).
func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	if err := b.CheckKey(key); err != nil {
		return Object{}, fmt.Errorf("put: %w", err)
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
		mt, params, err := mime.ParseMediaType(o.ContentType)
		if err != nil {
			return Object{}, fmt.Errorf("put %s: content type %q: %w", b.full(key), o.ContentType, err)
		}
		o.ContentType = mime.FormatMediaType(mt, params)
	}
	conditional := o.IfMatch != "" || o.IfNoneMatch
	obj, err := b.drv.put(ctx, b.full(key), r, o)
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

// sniff returns r's first bytes (at most 512) for content-type detection and a
// reader that still yields all of r.
func sniff(r io.Reader) (string, io.Reader, error) {
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return "", nil, fmt.Errorf("read body: %w", err)
	}
	return http.DetectContentType(head[:n]), io.MultiReader(bytes.NewReader(head[:n]), r), nil
}
