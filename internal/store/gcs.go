package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"

	"cloud.google.com/go/storage"
	"gocloud.dev/blob"
	"gocloud.dev/blob/gcsblob"
	"gocloud.dev/gcp"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
)

// gcsDriver serves gs:// through the Cloud Storage client, so keys are sent
// verbatim and conditional writes use generation preconditions.
type gcsDriver struct {
	b      *Bucket
	bucket *storage.BucketHandle
}

// openGCS opens gs://. With STORAGE_EMULATOR_HOST set (host:port or a URL,
// as Google's client libraries accept it) the client talks to that emulator
// without credentials; with ?anonymous=true it makes unauthenticated requests
// (public buckets). Both build the Cloud Storage client directly, so no
// credential lookup happens. Otherwise gocloud's URL opener finds the
// credentials (Application Default Credentials) and reads its parameters.
func openGCS(ctx context.Context, b *Bucket, t target) (driver, *blob.Bucket, error) {
	emulator := os.Getenv("STORAGE_EMULATOR_HOST") != ""
	anonymous := false
	if v := t.query.Get("anonymous"); v != "" {
		on, err := parseBool(v)
		if err != nil {
			return nil, nil, fmt.Errorf("destination %s: anonymous: %w", t.redacted, err)
		}
		anonymous = on
	}
	var base *blob.Bucket
	var client *storage.Client
	if emulator || anonymous {
		for k := range t.query {
			if k != "anonymous" {
				return nil, nil, fmt.Errorf("destination %s: query parameter %q is not used with STORAGE_EMULATOR_HOST or anonymous=true", t.redacted, k)
			}
		}
		c, err := storage.NewClient(ctx, option.WithoutAuthentication())
		if err != nil {
			return nil, nil, fmt.Errorf("open %s: %w", t.redacted, err)
		}
		if base, err = gcsblob.OpenBucket(ctx, nil, t.bucket, &gcsblob.Options{Client: c}); err != nil {
			_ = c.Close()
			return nil, nil, fmt.Errorf("open %s: %w", t.redacted, err)
		}
		client = c
	} else {
		var err error
		if base, err = openGCSURL(ctx, t); err != nil {
			return nil, nil, err
		}
		if !base.As(&client) {
			_ = base.Close()
			return nil, nil, fmt.Errorf("open %s: the gs driver did not expose its *storage.Client", t.redacted)
		}
	}
	return &gcsDriver{b: b, bucket: client.Bucket(t.bucket)}, blob.PrefixedBucket(base, t.prefix), nil
}

// openGCSURL opens gs:// with gocloud's URL opener over credentials looked
// up here, so that missing credentials are one clear error (a
// *CredentialsError) before any request, and gocloud's default opener does
// not print its own warning on stdout and carry on with empty credentials.
func openGCSURL(ctx context.Context, t target) (*blob.Bucket, error) {
	u := url.URL{Scheme: t.kind, Host: t.bucket, RawQuery: t.query.Encode()}
	anon, _ := strconv.ParseBool(t.query.Get("anonymous"))
	o := &gcsblob.URLOpener{}
	if anon || t.query.Get("access_id") == "-" {
		o.Client = gcp.NewAnonymousHTTPClient(gcp.DefaultTransport())
	} else {
		creds, err := gcp.DefaultCredentials(ctx)
		if err != nil {
			ce := gcpCredentials
			ce.URL, ce.Cause = t.redacted, err
			return nil, &ce
		}
		o.TokenSource = gcp.CredentialsTokenSource(creds)
		if o.Client, err = gcp.NewHTTPClient(gcp.DefaultTransport(), o.TokenSource); err != nil {
			return nil, fmt.Errorf("open %s: %w", t.redacted, err)
		}
	}
	b, err := o.OpenBucketURL(ctx, &u)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t.redacted, err)
	}
	return b, nil
}

func (d *gcsDriver) put(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	obj := d.bucket.Object(key)
	switch {
	case o.IfNoneMatch:
		obj = obj.If(storage.Conditions{DoesNotExist: true})
	case o.IfMatch != "":
		// The ETag is compared here and the write is made conditional on
		// the generation that carried it: atomic, since any other write in
		// between creates a new generation.
		d.b.stats.add(KindHead, 1)
		cur, err := obj.Attrs(ctx)
		if err != nil {
			return Object{}, fmt.Errorf("check condition: %w", err)
		}
		if err := conditionHolds(o, true, cur.Etag); err != nil {
			return Object{}, err
		}
		obj = obj.If(storage.Conditions{GenerationMatch: cur.Generation})
	}
	// Read up to one part first: a shorter body goes in one request with a
	// buffer of its own size (not a part-sized one per small file).
	h, err := d.b.bufs.readHead(r, d.b.part, o.Size)
	if err != nil {
		return Object{}, fmt.Errorf("read body: %w", err)
	}
	defer h.release()
	chunk := int(d.b.part)
	if h.whole {
		const quantum = 256 << 10 // the client rounds chunk sizes to 256 KiB
		chunk = (len(h.data)/quantum + 1) * quantum
	}
	ct := o.ContentType
	if ct == "" {
		ct = sniffType(h.data)
	}
	r = bytes.NewReader(h.data)
	if !h.whole {
		r = io.MultiReader(r, h.rest)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.b.stats.add(KindPut, 1)
	w := obj.NewWriter(wctx)
	w.ChunkSize = chunk
	w.ContentType = ct
	w.CacheControl = o.CacheControl
	w.ContentEncoding = o.ContentEncoding
	w.Metadata = o.Metadata
	n, err := io.Copy(w, r)
	if err != nil {
		cancel() // abandons the upload: nothing is written
		_ = w.Close()
		return Object{}, fmt.Errorf("write body: %w", err)
	}
	if err := w.Close(); err != nil {
		return Object{}, fmt.Errorf("finish write: %w", err)
	}
	d.b.stats.uploaded(n)
	return gcsObject(w.Attrs()), nil
}

func gcsObject(a *storage.ObjectAttrs) Object {
	md := a.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return Object{Key: a.Name, Size: a.Size, ETag: a.Etag, MD5: a.MD5, Metadata: md,
		ContentType: a.ContentType, CacheControl: a.CacheControl, ContentEncoding: a.ContentEncoding, ModTime: a.Updated}
}

// read makes a HEAD for the ETag (the GET response does not carry it) and
// reads that generation, so content and ETag agree.
func (d *gcsDriver) read(ctx context.Context, key string) ([]byte, string, error) {
	d.b.stats.add(KindHead, 1)
	a, err := d.bucket.Object(key).Attrs(ctx)
	if err != nil {
		return nil, "", err
	}
	d.b.stats.add(KindGet, 1)
	// ReadCompressed: the stored bytes, never a transcoded (gunzipped) body.
	r, err := d.bucket.Object(key).Generation(a.Generation).ReadCompressed(true).NewReader(ctx)
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxRead+1))
	if err != nil {
		return nil, "", err
	}
	return data, a.Etag, nil
}

func (d *gcsDriver) stat(ctx context.Context, key string) (Object, error) {
	d.b.stats.add(KindHead, 1)
	a, err := d.bucket.Object(key).Attrs(ctx)
	if err != nil {
		return Object{}, err
	}
	return gcsObject(a), nil
}

func (d *gcsDriver) listPage(ctx context.Context, prefix, token string) ([]Object, string, error) {
	d.b.stats.add(KindList, 1)
	q := &storage.Query{Prefix: prefix}
	if err := q.SetAttrSelection([]string{"Name", "Size", "Etag", "MD5", "Updated"}); err != nil {
		return nil, "", err
	}
	var page []*storage.ObjectAttrs
	next, err := iterator.NewPager(d.bucket.Objects(ctx, q), listPage, token).NextPage(&page)
	if err != nil {
		return nil, "", err
	}
	out := make([]Object, 0, len(page))
	for _, a := range page {
		if a.Prefix != "" {
			continue
		}
		o := gcsObject(a)
		o.Metadata = nil
		out = append(out, o)
	}
	return out, next, nil
}

func (d *gcsDriver) delete(ctx context.Context, keys []string) error {
	return deleteEach(ctx, d.b, keys, func(ctx context.Context, k string) error {
		return d.bucket.Object(k).Delete(ctx)
	})
}

// gcsNotFound reports the Cloud Storage client's not-found errors.
func gcsNotFound(err error) bool {
	return errors.Is(err, storage.ErrObjectNotExist) || errors.Is(err, storage.ErrBucketNotExist)
}

// open makes a HEAD for the ETag (a GET response does not carry it) and
// reads that generation, so content and ETag agree.
func (d *gcsDriver) open(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	d.b.stats.add(KindHead, 1)
	a, err := d.bucket.Object(key).Attrs(ctx)
	if err != nil {
		return nil, Object{}, err
	}
	d.b.stats.add(KindGet, 1)
	r, err := d.bucket.Object(key).Generation(a.Generation).ReadCompressed(true).NewReader(ctx)
	if err != nil {
		return nil, Object{}, err
	}
	return r, gcsObject(a), nil
}

// copy rewrites src to dst inside the store (Objects: rewrite, repeated by
// the client until done), keeping the object's attributes.
func (d *gcsDriver) copy(ctx context.Context, dst, src string) error {
	if _, err := d.bucket.Object(dst).CopierFrom(d.bucket.Object(src)).Run(ctx); err != nil {
		return fmt.Errorf("rewrite: %w", err)
	}
	return nil
}
