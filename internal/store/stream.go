package store

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Reader streams the content of one object opened with Bucket.NewReader.
// Close it when done.
type Reader struct {
	rc  io.ReadCloser
	obj Object
}

// Read reads the object's content.
func (r *Reader) Read(p []byte) (int, error) { return r.rc.Read(p) }

// Close releases the connection or file behind the reader.
func (r *Reader) Close() error { return r.rc.Close() }

// Object returns what the store reported with the content: Key, Size, ETag,
// ContentType and ModTime on every scheme (ModTime zero where the response
// does not carry it). Metadata, CacheControl and ContentEncoding are filled
// where the read's response carries them (s3://, gs://, azblob://); use Stat
// for them elsewhere.
func (r *Reader) Object() Object { return r.obj }

// NewReader opens the object key for streaming reads of any size. The bytes
// read are the stored bytes (never transcoded: an object stored with
// Content-Encoding: gzip reads as gzip), and they belong to the version whose
// ETag Object reports. It fails with an error matching ErrNotExist when the
// object is missing. One "get" request is counted (gs:// also counts the
// "head" that learns the ETag).
func (b *Bucket) NewReader(ctx context.Context, key string) (*Reader, error) {
	if err := b.CheckKey(key); err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	if err := b.live(); err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	rc, obj, err := b.drv.open(ctx, b.full(key))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", b.full(key), withURL(classify(err), b.url))
	}
	obj.Key = key
	if obj.Metadata == nil {
		obj.Metadata = map[string]string{}
	}
	return &Reader{rc: rc, obj: obj}, nil
}

// errNoServerCopy is returned by a driver's copy when this copy cannot be
// made inside the store (for instance an S3 object over 5 GiB); Copy then
// streams the object instead.
var errNoServerCopy = errors.New("no server-side copy for this object")

// copier is implemented by drivers whose store copies an object to another
// key of the same store without the bytes passing through ghsync
// (Capabilities.ServerCopy). Keys are full keys; the copy keeps the
// object's content type, cache control, content encoding and metadata.
type copier interface {
	copy(ctx context.Context, dst, src string) error
}

// Copy copies the object srcKey of src to dstKey of b and returns the new
// object as Stat reports it. When both buckets are on the same store (the
// same bucket, container or directory, opened with the same parameters) and
// the scheme declares Capabilities.ServerCopy, the store copies it itself;
// otherwise the content is streamed from src into b (through NewReader and
// Put, the body's size declared and checked), keeping content type, cache
// control, content encoding and metadata where b stores attributes. src may
// be b. Missing sources fail with an error matching ErrNotExist.
func (b *Bucket) Copy(ctx context.Context, dstKey string, src *Bucket, srcKey string) (Object, error) {
	if err := b.CheckKey(dstKey); err != nil {
		return Object{}, fmt.Errorf("copy: %w", err)
	}
	if err := src.CheckKey(srcKey); err != nil {
		return Object{}, fmt.Errorf("copy: %w", err)
	}
	if c, ok := b.drv.(copier); ok && b.caps.ServerCopy && src.store == b.store {
		b.stats.add(KindCopy, 1)
		err := c.copy(ctx, b.full(dstKey), src.full(srcKey))
		if err == nil {
			return b.Stat(ctx, dstKey)
		}
		if !errors.Is(err, errNoServerCopy) {
			return Object{}, fmt.Errorf("copy %s to %s: %w", src.full(srcKey), b.full(dstKey), withURL(classify(err), b.url))
		}
	}
	return b.streamCopy(ctx, dstKey, src, srcKey)
}

// streamCopy reads srcKey from src and writes it to dstKey of b.
func (b *Bucket) streamCopy(ctx context.Context, dstKey string, src *Bucket, srcKey string) (Object, error) {
	r, err := src.NewReader(ctx, srcKey)
	if err != nil {
		return Object{}, fmt.Errorf("copy: %w", err)
	}
	defer r.Close()
	so := r.Object()
	if len(so.Metadata) == 0 && so.CacheControl == "" && so.ContentEncoding == "" && src.caps.StoresAttributes {
		// The read's response did not carry the attributes (file://, mem://).
		if st, err := src.Stat(ctx, srcKey); err == nil {
			so.Metadata, so.CacheControl, so.ContentEncoding = st.Metadata, st.CacheControl, st.ContentEncoding
			if so.ContentType == "" {
				so.ContentType = st.ContentType
			}
		}
	}
	po := PutOptions{ContentType: so.ContentType, CacheControl: so.CacheControl,
		ContentEncoding: so.ContentEncoding, Metadata: so.Metadata, Size: so.Size}
	if !src.caps.StoresAttributes {
		po.ContentType, po.Metadata = "", nil
	}
	obj, err := b.Put(ctx, dstKey, r, po)
	if err != nil {
		return Object{}, fmt.Errorf("copy %s: %w", src.full(srcKey), err)
	}
	return obj, nil
}
