package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"gocloud.dev/blob"
)

// Put streams r into the object key and returns the object as the store
// recorded it, including the ETag the store returned for this upload (for S3
// taken from the PutObject / CompleteMultipartUpload response, so a multipart
// upload yields a "…-N" ETag and no extra HEAD is made; other drivers read it
// back with one HEAD). Memory is bounded by (Concurrency+1) × PartSize per Put.
//
// With o.IfMatch the write happens only if the object's current ETag equals
// o.IfMatch; with o.IfNoneMatch only if the object does not exist. When the
// condition fails nothing is written and the error matches
// ErrPreconditionFailed (and also ErrNotExist for IfMatch on a missing object).
// Conditional writes are atomic on S3 (If-Match / If-None-Match headers),
// file:// (an flock on the bucket directory, across processes) and mem:// (a
// mutex); gs:// and azblob:// support IfNoneMatch only.
//
// On S3 the returned ModTime is zero (the upload response does not carry it).
func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	if err := CheckKey(key); err != nil {
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
	var obj Object
	switch {
	case b.kind == "s3":
		obj, err = b.putS3(ctx, key, r, o)
	case b.kind == "file" && conditional:
		obj, err = b.putFileCAS(ctx, key, r, o)
	case b.kind == "mem" && conditional:
		obj, err = b.putMemCAS(ctx, key, r, o)
	case o.IfMatch != "":
		err = fmt.Errorf("IfMatch on %s:// destinations: %w", b.kind, errors.ErrUnsupported)
	default:
		obj, err = b.putGeneric(ctx, key, r, o)
	}
	if err != nil {
		err = classify(err)
		if conditional && errors.Is(err, ErrNotExist) && !errors.Is(err, ErrPreconditionFailed) {
			err = fmt.Errorf("%w: %w", ErrPreconditionFailed, err)
		}
		return Object{}, fmt.Errorf("put %s: %w", b.full(key), err)
	}
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

// putGeneric writes through the gocloud writer, then reads the attributes
// back (one HEAD) for the ETag. o.IfNoneMatch maps to gocloud's IfNotExist.
func (b *Bucket) putGeneric(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b.stats.add(KindPut, 1)
	w, err := b.view.NewWriter(wctx, key, &blob.WriterOptions{
		ContentType:     o.ContentType,
		CacheControl:    o.CacheControl,
		ContentEncoding: o.ContentEncoding,
		Metadata:        o.Metadata,
		IfNotExist:      o.IfNoneMatch,
		BufferSize:      int(b.part),
		MaxConcurrency:  b.conc,
	})
	if err != nil {
		return Object{}, fmt.Errorf("open writer: %w", err)
	}
	n, err := io.Copy(w, r)
	if err != nil {
		cancel() // abandons the write
		_ = w.Close()
		return Object{}, fmt.Errorf("write body: %w", err)
	}
	if err := w.Close(); err != nil {
		return Object{}, fmt.Errorf("finish write: %w", err)
	}
	b.stats.uploaded(n)
	b.stats.add(KindHead, 1)
	a, err := b.view.Attributes(ctx, key)
	if err != nil {
		return Object{}, fmt.Errorf("read back attributes: %w", err)
	}
	return objectFromAttrs(key, a), nil
}

// putMemCAS performs a conditional write on mem:// under the bucket's mutex.
func (b *Bucket) putMemCAS(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	b.memMu.Lock()
	defer b.memMu.Unlock()
	if _, err := b.checkCondition(ctx, key, o); err != nil {
		return Object{}, err
	}
	o.IfMatch, o.IfNoneMatch = "", false
	return b.putGeneric(ctx, key, r, o)
}

// checkCondition evaluates o's condition against the object's current state
// (one HEAD) and returns the current attributes (nil when absent). The caller
// must hold the lock that makes check-then-write atomic.
func (b *Bucket) checkCondition(ctx context.Context, key string, o PutOptions) (*blob.Attributes, error) {
	b.stats.add(KindHead, 1)
	cur, err := b.view.Attributes(ctx, key)
	if err != nil {
		if err = classify(err); !errors.Is(err, ErrNotExist) {
			return nil, fmt.Errorf("check condition: %w", err)
		}
		cur = nil
	}
	switch {
	case o.IfNoneMatch && cur != nil:
		return nil, fmt.Errorf("%w: object exists (ETag %s)", ErrPreconditionFailed, cur.ETag)
	case o.IfMatch != "" && cur == nil:
		return nil, fmt.Errorf("%w: If-Match %s: %w", ErrPreconditionFailed, o.IfMatch, ErrNotExist)
	case o.IfMatch != "" && normETag(cur.ETag) != normETag(o.IfMatch):
		return nil, fmt.Errorf("%w: If-Match %s but current ETag is %s", ErrPreconditionFailed, o.IfMatch, cur.ETag)
	}
	return cur, nil
}
