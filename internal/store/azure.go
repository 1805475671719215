package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// azureDriver serves azblob:// through the container client, so blob names
// are sent verbatim (gocloud would escape "%", "#", "?", "\" and "__0x…__")
// and conditional writes use ETag access conditions.
type azureDriver struct {
	b  *Bucket
	cc *container.Client
}

// openAzure opens azblob:// with the Azure SDK's container client, its
// service URL and credentials found as azureContainer says (the
// environment variables and URL parameters gocloud's azureblob opener read:
// AZURE_STORAGE_ACCOUNT / AZURE_STORAGE_KEY, SAS token, connection string,
// default credentials; localemu, domain, protocol, cdn, storage_account).
func openAzure(_ context.Context, b *Bucket, t target) (driver, error) {
	cc, err := azureContainer(t, os.Getenv)
	if err != nil {
		var ce *CredentialsError
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, fmt.Errorf("destination %s: %w", t.redacted, err)
	}
	return &azureDriver{b: b, cc: cc}, nil
}

func (d *azureDriver) put(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	b := d.b
	h, err := b.bufs.readHead(r, b.part, o.Size)
	if err != nil {
		return Object{}, fmt.Errorf("read body: %w", err)
	}
	defer h.release()
	n := int64(len(h.data))
	ct := o.ContentType
	if ct == "" {
		ct = sniffType(h.data)
	}
	hdr := &azblobblob.HTTPHeaders{BlobContentType: &ct}
	if o.CacheControl != "" {
		hdr.BlobCacheControl = &o.CacheControl
	}
	if o.ContentEncoding != "" {
		hdr.BlobContentEncoding = &o.ContentEncoding
	}
	cond := &azblobblob.AccessConditions{ModifiedAccessConditions: &azblobblob.ModifiedAccessConditions{}}
	if o.IfMatch != "" {
		e := azcore.ETag(o.IfMatch)
		cond.ModifiedAccessConditions.IfMatch = &e
	}
	if o.IfNoneMatch {
		e := azcore.ETagAny
		cond.ModifiedAccessConditions.IfNoneMatch = &e
	}
	md := azureMetadata(o.Metadata)
	bb := d.cc.NewBlockBlobClient(key)
	b.stats.add(KindPut, 1)
	var etag *azcore.ETag
	if h.whole { // one Put Blob request
		resp, err := bb.Upload(ctx, streaming.NopCloser(bytes.NewReader(h.data)), &blockblob.UploadOptions{
			HTTPHeaders: hdr, Metadata: md, AccessConditions: cond,
		})
		if err != nil {
			return Object{}, fmt.Errorf("Put Blob: %w", err)
		}
		etag = resp.ETag
	} else {
		// Staged blocks are committed with the condition; blocks of a
		// failed or abandoned upload are never committed.
		cr := &countingReader{r: io.MultiReader(bytes.NewReader(h.data), h.rest)}
		resp, err := bb.UploadStream(ctx, cr, &blockblob.UploadStreamOptions{
			BlockSize: b.part, Concurrency: b.conc, HTTPHeaders: hdr, Metadata: md, AccessConditions: cond,
		})
		if err != nil {
			if cr.err != nil {
				return Object{}, fmt.Errorf("read body: %w", cr.err)
			}
			return Object{}, fmt.Errorf("Put Block List: %w", err)
		}
		n, etag = cr.n, resp.ETag
		b.stats.add(KindMultipartPart, int((n+b.part-1)/b.part))
	}
	b.stats.uploaded(n)
	obj := Object{Key: key, Size: n, Metadata: o.Metadata, ContentType: ct}
	if etag != nil {
		obj.ETag = azureETag(*etag)
	}
	return obj, nil
}

// countingReader counts bytes and remembers the source's own read error.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		c.err = err
	}
	return n, err
}

// azureMetadata encodes metadata as gocloud's azureblob does (names must be C#
// identifiers: other characters and a leading digit become "__0x<hex>__";
// values are URL-escaped), so either can read what the other wrote.
func azureMetadata(md map[string]string) map[string]*string {
	out := make(map[string]*string, len(md))
	for k, v := range md {
		e := hexEscape(k, func(r []rune, i int) bool {
			c := r[i]
			switch {
			case i == 0 && c >= '0' && c <= '9':
				return true
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
				return false
			}
			return true
		})
		ev := url.PathEscape(v)
		out[e] = &ev
	}
	return out
}

func (d *azureDriver) read(ctx context.Context, key string) ([]byte, string, error) {
	d.b.stats.add(KindGet, 1)
	// An explicit Accept-Encoding keeps Go's transport from gunzipping a body
	// stored with Content-Encoding: gzip: Read returns the stored bytes.
	ctx = policy.WithHTTPHeader(ctx, http.Header{"Accept-Encoding": []string{"identity"}})
	resp, err := d.cc.NewBlobClient(key).DownloadStream(ctx, nil)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	declared := int64(-1)
	if resp.ContentLength != nil {
		declared = *resp.ContentLength
	}
	data, err := readBody(resp.Body, declared) // a cut is retried by Bucket.Read
	if err != nil {
		return nil, "", err
	}
	var etag string
	if resp.ETag != nil {
		etag = azureETag(*resp.ETag)
	}
	return data, etag, nil
}

func (d *azureDriver) stat(ctx context.Context, key string) (Object, error) {
	d.b.stats.add(KindHead, 1)
	p, err := d.cc.NewBlobClient(key).GetProperties(ctx, nil)
	if err != nil {
		return Object{}, err
	}
	md := azureMetadataOut(p.Metadata)
	o := Object{Key: key, Size: deref(p.ContentLength), MD5: p.ContentMD5, Metadata: md,
		ContentType: deref(p.ContentType), CacheControl: deref(p.CacheControl), ContentEncoding: deref(p.ContentEncoding)}
	if p.ETag != nil {
		o.ETag = azureETag(*p.ETag)
	}
	if p.LastModified != nil {
		o.ModTime = *p.LastModified
	}
	return o, nil
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (d *azureDriver) listPage(ctx context.Context, prefix, token string) ([]Object, string, error) {
	d.b.stats.add(KindList, 1)
	opts := &container.ListBlobsFlatOptions{MaxResults: ptr(int32(listPage))}
	if prefix != "" {
		opts.Prefix = &prefix
	}
	if token != "" {
		opts.Marker = &token
	}
	page, err := d.cc.NewListBlobsFlatPager(opts).NextPage(ctx)
	if err != nil {
		return nil, "", err
	}
	var out []Object
	if page.Segment != nil {
		for _, it := range page.Segment.BlobItems {
			if it.Name == nil || it.Properties == nil {
				continue
			}
			p := it.Properties
			o := Object{Key: *it.Name, Size: deref(p.ContentLength), MD5: p.ContentMD5}
			if p.ETag != nil {
				o.ETag = azureETag(*p.ETag)
			}
			if p.LastModified != nil {
				o.ModTime = *p.LastModified
			}
			out = append(out, o)
		}
	}
	return out, deref(page.NextMarker), nil
}

// azureETag quotes an ETag as the HTTP headers carry it: listings report the
// same ETags unquoted.
func azureETag(e azcore.ETag) string {
	s := string(e)
	if s == "" || s[0] == '"' {
		return s
	}
	return `"` + s + `"`
}

func ptr[T any](v T) *T { return &v }

// azureBatch is the most sub-requests one Blob Batch request may carry.
const azureBatch = 256

// delete sends Blob Batch requests of up to 256 deletes. When the client's
// credential cannot sign batches, it deletes one blob per request instead.
func (d *azureDriver) delete(ctx context.Context, keys []string) error {
	if _, err := d.cc.NewBatchBuilder(); err != nil {
		d.b.log.Debug("azblob: no batch delete with this credential; deleting one by one", "error", err)
		return deleteEach(ctx, d.b, keys, func(ctx context.Context, k string) error {
			_, err := d.cc.NewBlobClient(k).Delete(ctx, nil)
			return err
		})
	}
	var batches [][]string
	for start := 0; start < len(keys); start += azureBatch {
		batches = append(batches, keys[start:min(start+azureBatch, len(keys))])
	}
	return eachBounded(ctx, d.b.conc, batches, func(batch []string) error { return d.deleteBatch(ctx, batch) })
}

// deleteBatch deletes up to 256 blobs with one Blob Batch request.
func (d *azureDriver) deleteBatch(ctx context.Context, batch []string) error {
	bb, err := d.cc.NewBatchBuilder()
	if err != nil {
		return fmt.Errorf("Blob Batch: %w", err)
	}
	for _, k := range batch {
		if err := bb.Delete(k, nil); err != nil {
			return fmt.Errorf("Blob Batch: add %s: %w", k, err)
		}
	}
	d.b.stats.add(KindDelete, 1)
	resp, err := d.cc.SubmitBatch(ctx, bb, nil)
	if err != nil {
		return fmt.Errorf("Blob Batch (%d deletes from %s): %w", len(batch), batch[0], err)
	}
	var errs []error
	if len(resp.Responses) != len(batch) {
		errs = append(errs, fmt.Errorf("Blob Batch: %d answers to %d deletes from %s", len(resp.Responses), len(batch), batch[0]))
	}
	for _, it := range resp.Responses {
		if it.Error == nil || errors.Is(classify(it.Error), ErrNotExist) {
			continue
		}
		errs = append(errs, fmt.Errorf("delete %s: %w", deref(it.BlobName), it.Error))
	}
	return errors.Join(errs...)
}

// azureMetadataOut decodes metadata written by azureMetadata.
func azureMetadataOut(in map[string]*string) map[string]string {
	md := make(map[string]string, len(in))
	for k, v := range in {
		if v == nil {
			continue
		}
		val := *v
		if u, err := url.PathUnescape(val); err == nil {
			val = u
		}
		md[hexUnescape(lowerASCII(k))] = val
	}
	return md
}

// open streams the blob's stored bytes (Accept-Encoding: identity, so a
// gzip-encoded blob is not gunzipped on the way).
func (d *azureDriver) open(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	d.b.stats.add(KindGet, 1)
	ctx = policy.WithHTTPHeader(ctx, http.Header{"Accept-Encoding": []string{"identity"}})
	resp, err := d.cc.NewBlobClient(key).DownloadStream(ctx, nil)
	if err != nil {
		return nil, Object{}, err
	}
	o := Object{Key: key, Size: deref(resp.ContentLength), MD5: resp.ContentMD5, Metadata: azureMetadataOut(resp.Metadata),
		ContentType: deref(resp.ContentType), CacheControl: deref(resp.CacheControl), ContentEncoding: deref(resp.ContentEncoding)}
	if resp.ETag != nil {
		o.ETag = azureETag(*resp.ETag)
	}
	if resp.LastModified != nil {
		o.ModTime = *resp.LastModified
	}
	return resp.Body, o, nil
}

// copy copies src to dst inside the storage account (Copy Blob: the
// service copies; the bytes never pass through ghsync), keeping content
// type, cache control, content encoding and metadata, and waits for a copy
// the service reports pending.
func (d *azureDriver) copy(ctx context.Context, dst, src string) error {
	dc := d.cc.NewBlobClient(dst)
	resp, err := dc.StartCopyFromURL(ctx, d.cc.NewBlobClient(src).URL(), nil)
	if err != nil {
		return fmt.Errorf("Copy Blob: %w", err)
	}
	status := deref(resp.CopyStatus)
	for fails := 0; status == azblobblob.CopyStatusTypePending; {
		select {
		case <-ctx.Done():
			return fmt.Errorf("Copy Blob: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
		p, err := dc.GetProperties(ctx, nil)
		if err != nil {
			if fails++; fails == 3 {
				return fmt.Errorf("Copy Blob: wait for the copy: %w", err)
			}
			continue
		}
		status = deref(p.CopyStatus)
	}
	if status != azblobblob.CopyStatusTypeSuccess {
		return fmt.Errorf("Copy Blob of %s ended with status %q", src, status)
	}
	return nil
}
