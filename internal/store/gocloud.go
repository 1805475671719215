package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gocloud.dev/blob"
)

// gocloudDriver serves file://?metadata=sidecar through gocloud's fileblob. Conditional writes
// check and write under lock (an flock for file://, a mutex for mem://).
type gocloudDriver struct {
	b      *Bucket
	view   *blob.Bucket // scoped to prefix: keys passed to it are relative
	root   *blob.Bucket // the same store without a prefix (copies between prefixes); closed by Close
	prefix string
	dir    string // file://: absolute root directory ("" for mem://)
	lock   func(ctx context.Context) (unlock func(), err error)
}

// attrsExt is the suffix of fileblob's side files (NAME.attrs).
const attrsExt = ".attrs"

// fileTemp matches the temporary files the file driver writes next to their
// final name while an upload is in flight.
var fileTemp = regexp.MustCompile(`\.[0-9a-f]{8,16}\.tmp$`)

func (d *gocloudDriver) put(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	if o.IfMatch == "" && !o.IfNoneMatch {
		return d.write(ctx, key, r, o)
	}
	unlock, err := d.lock(ctx)
	if err != nil {
		return Object{}, err
	}
	defer unlock()
	cur, err := d.checkCondition(ctx, key, o)
	if err != nil {
		return Object{}, err
	}
	o.IfMatch, o.IfNoneMatch = "", false
	obj, err := d.write(ctx, key, r, o)
	if err != nil || cur == nil || d.dir == "" {
		return obj, err
	}
	return d.ensureNewETag(ctx, key, cur, obj)
}

// rel returns key relative to the prefix (keys given to the driver are full).
func (d *gocloudDriver) rel(key string) string { return strings.TrimPrefix(key, d.prefix) }

// write writes through the gocloud writer. The body's first part is read
// into a pooled buffer sized to it (and its content type sniffed from it when
// none is given), then written in one Write. The ETag comes from one stat of
// the written file on file:// (what the store knows of the object besides is
// what was just written), from the attributes (one HEAD) on mem://.
func (d *gocloudDriver) write(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	h, err := d.b.bufs.readHead(r, d.b.part, o.Size)
	if err != nil {
		return Object{}, fmt.Errorf("read body: %w", err)
	}
	defer h.release()
	if o.ContentType == "" {
		o.ContentType = sniffType(h.data) // as gocloud's writer would
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.b.stats.add(KindPut, 1)
	w, err := d.view.NewWriter(wctx, d.rel(key), &blob.WriterOptions{
		ContentType:     o.ContentType,
		CacheControl:    o.CacheControl,
		ContentEncoding: o.ContentEncoding,
		Metadata:        o.Metadata,
		BufferSize:      int(d.b.part),
		MaxConcurrency:  d.b.conc,
	})
	if err != nil {
		return Object{}, fmt.Errorf("open writer: %w", err)
	}
	n, err := d.writeBody(w, h)
	if err != nil {
		cancel() // abandons the write
		_ = w.Close()
		return Object{}, err
	}
	if err := w.Close(); err != nil {
		return Object{}, fmt.Errorf("finish write: %w", err)
	}
	d.b.stats.uploaded(n)
	if d.dir == "" {
		return d.stat(ctx, key)
	}
	path := filepath.Join(d.dir, filepath.FromSlash(fileName(key)))
	d.b.stats.add(KindHead, 1)
	fi, err := os.Stat(path)
	if err != nil {
		return Object{}, fmt.Errorf("stat the written file: %w", err)
	}
	md := o.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return Object{Key: key, Size: fi.Size(), ETag: synthETag(fi.ModTime(), fi.Size()), Metadata: md,
		ContentType: o.ContentType, ModTime: fi.ModTime()}, nil
}

// writeBody writes the body whose start is h to w: h.data in one Write, then
// the rest (if any) through a pooled copy buffer, never through
// blob.Writer.ReadFrom, which allocates 1 MiB per object.
func (d *gocloudDriver) writeBody(w io.Writer, h *head) (int64, error) {
	if _, err := w.Write(h.data); err != nil {
		return 0, fmt.Errorf("write body: %w", err)
	}
	n := int64(len(h.data))
	if h.whole {
		return n, nil
	}
	m, err := d.b.bufs.copyBody(w, h.rest)
	if err != nil {
		return 0, fmt.Errorf("write body: %w", err)
	}
	return n + m, nil
}

// checkCondition evaluates o's condition against the object's current state
// (one HEAD) and returns the current attributes (nil when absent). The caller
// holds the lock that makes check-then-write atomic.
func (d *gocloudDriver) checkCondition(ctx context.Context, key string, o PutOptions) (*blob.Attributes, error) {
	d.b.stats.add(KindHead, 1)
	cur, err := retryAttrs(ctx, func() (*blob.Attributes, error) { return d.view.Attributes(ctx, d.rel(key)) })
	if err != nil {
		if err = classify(err); !errors.Is(err, ErrNotExist) {
			return nil, fmt.Errorf("check condition: %w", err)
		}
		cur = nil
	}
	var etag string
	if cur != nil {
		etag = synthETag(cur.ModTime, cur.Size)
	}
	if err := conditionHolds(o, cur != nil, etag); err != nil {
		return nil, err
	}
	return cur, nil
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

// ensureNewETag makes sure a rewrite changed the ETag. The file driver's ETag
// is mtime+size, so a same-size rewrite within one filesystem timestamp tick
// would keep the old ETag and defeat the next If-Match; in that case the mtime
// is moved past the old one and the attributes are read again.
func (d *gocloudDriver) ensureNewETag(ctx context.Context, key string, old *blob.Attributes, obj Object) (Object, error) {
	if normETag(obj.ETag) != normETag(synthETag(old.ModTime, old.Size)) {
		return obj, nil
	}
	path := filepath.Join(d.dir, filepath.FromSlash(fileName(key)))
	if err := os.Chtimes(path, time.Time{}, old.ModTime.Add(time.Millisecond)); err != nil {
		return Object{}, fmt.Errorf("bump mtime of %s: %w", path, err)
	}
	return d.stat(ctx, key)
}

// fileName returns the path fileblob stores key under, relative to its root:
// for keys CheckKey accepts, only gocloud's escape-like sequences differ.
func fileName(key string) string {
	return hexEscape(key, func([]rune, int) bool { return false })
}

// attrsRace reports the error fileblob gives when it reads an attributes
// file that a concurrent write of the same key has just truncated (it
// rewrites NAME.attrs in place): reading again shortly after succeeds.
func attrsRace(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// retryAttrs runs fn again (up to 20 times, 5 ms apart) while it fails with attrsRace.
func retryAttrs[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	for i := 0; ; i++ {
		v, err := fn()
		if err == nil || !attrsRace(err) || i == 20 {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (d *gocloudDriver) read(ctx context.Context, key string) ([]byte, string, error) {
	d.b.stats.add(KindGet, 1)
	r, err := retryAttrs(ctx, func() (*blob.Reader, error) { return d.view.NewReader(ctx, d.rel(key), nil) })
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxRead+1))
	if err != nil {
		return nil, "", err
	}
	return data, synthETag(r.ModTime(), r.Size()), nil
}

func (d *gocloudDriver) stat(ctx context.Context, key string) (Object, error) {
	d.b.stats.add(KindHead, 1)
	a, err := retryAttrs(ctx, func() (*blob.Attributes, error) { return d.view.Attributes(ctx, d.rel(key)) })
	if err != nil {
		return Object{}, err
	}
	md := a.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return Object{Key: key, Size: a.Size, ETag: synthETag(a.ModTime, a.Size), MD5: a.MD5, Metadata: md,
		ContentType: a.ContentType, CacheControl: a.CacheControl, ContentEncoding: a.ContentEncoding,
		ModTime: a.ModTime}, nil
}

func (d *gocloudDriver) listPage(ctx context.Context, prefix, token string) ([]Object, string, error) {
	d.b.stats.add(KindList, 1)
	tok := blob.FirstPageToken
	if token != "" {
		tok = []byte(token)
	}
	page, next, err := d.view.ListPage(ctx, tok, listPage, &blob.ListOptions{Prefix: d.rel(prefix)})
	if err != nil {
		return nil, "", err
	}
	out := make([]Object, 0, len(page))
	for _, lo := range page {
		if lo.IsDir || (d.dir != "" && fileTemp.MatchString(lo.Key)) {
			continue
		}
		o := Object{Key: d.prefix + lo.Key, Size: lo.Size, MD5: lo.MD5, ModTime: lo.ModTime,
			ETag: synthETag(lo.ModTime, lo.Size)}
		out = append(out, o)
	}
	return out, string(next), nil
}

func (d *gocloudDriver) delete(ctx context.Context, keys []string) error {
	return deleteEach(ctx, d.b, keys, func(ctx context.Context, k string) error {
		return d.view.Delete(ctx, d.rel(k))
	})
}

// deleteEach deletes keys one request each, at most b.conc in flight; keys
// that do not exist are not errors. All keys are attempted.
func deleteEach(ctx context.Context, b *Bucket, keys []string, del func(context.Context, string) error) error {
	return eachBounded(ctx, b.conc, keys, func(k string) error {
		b.stats.add(KindDelete, 1)
		if err := classify(del(ctx, k)); err != nil && !errors.Is(err, ErrNotExist) {
			return fmt.Errorf("delete %s: %w", k, err)
		}
		return nil
	})
}

// open streams the object through gocloud's reader.
func (d *gocloudDriver) open(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	d.b.stats.add(KindGet, 1)
	r, err := retryAttrs(ctx, func() (*blob.Reader, error) { return d.view.NewReader(ctx, d.rel(key), nil) })
	if err != nil {
		return nil, Object{}, err
	}
	return r, Object{Key: key, Size: r.Size(), ETag: synthETag(r.ModTime(), r.Size()), ModTime: r.ModTime(),
		ContentType: r.ContentType()}, nil
}

// copy copies the file (or the in-memory object) with its attributes
// through gocloud's Copy, which writes the destination as a new object.
func (d *gocloudDriver) copy(ctx context.Context, dst, src string) error {
	return d.root.Copy(ctx, dst, src, nil)
}

// Close closes the unprefixed view (the Bucket closes the prefixed one).
func (d *gocloudDriver) Close() error { return d.root.Close() }
