// Package store opens a destination URL (s3://, gs://, azblob://, file://,
// mem://) scoped to a key prefix and offers the handful of operations repo
// sync needs (read, stat, streaming put that reports the store's ETag,
// conditional put, list with ETags, batch delete) with request counting.
//
// Each scheme is one driver (the driver interface, schemes.go) registered
// once in schemes with its Capabilities, and held to the conformance suite
// (internal/storetest). s3:// goes through the AWS SDK's S3 client (s3.go),
// gs:// through Cloud Storage's JSON API (a small client of its own,
// gcsapi.go) with Application Default Credentials from
// golang.org/x/oauth2/google (gcs.go), azblob:// through the Azure SDK's container client (azure.go,
// opened the way gocloud's azureblob opener did: the same environment
// variables and URL parameters). Keys are sent verbatim and conditional
// writes use the store's native preconditions: If-Match / If-None-Match on
// S3, generation preconditions on GCS, ETag access conditions on Azure.
// file:// is ghsync's own driver (file.go: one file per object, attributes in
// an extended attribute, or with ?metadata=sidecar in side files NAME.attrs
// of gocloud fileblob's format, sidecar.go) and so is mem:// (mem.go).
// Conditional writes there are made atomic with an flock on the bucket
// directory (across processes) and a per-bucket mutex. Every consumer goes
// through Bucket (Put, Read, NewReader, Copy, Stat, List, Delete): nothing
// underneath is exported.
package store

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// ErrNotExist is matched (errors.Is) by errors for objects that do not exist.
var ErrNotExist = errors.New("object does not exist")

// ErrNoCredentials is matched (errors.Is) when the cloud SDK found no credentials.
var ErrNoCredentials = errors.New("no credentials")

// ErrUnstorable is matched (errors.Is) by errors for keys the destination's
// scheme cannot store under their own name (see Bucket.CheckKey).
var ErrUnstorable = errors.New("key cannot be stored on this scheme")

// UnstorableError names a key a scheme cannot store and why. It matches ErrUnstorable.
type UnstorableError struct {
	Key, Scheme, Reason string
}

func (e *UnstorableError) Error() string {
	return fmt.Sprintf("key %q cannot be stored on %s://: %s", e.Key, e.Scheme, e.Reason)
}

// Is reports target == ErrUnstorable.
func (e *UnstorableError) Is(target error) bool { return target == ErrUnstorable }

// ErrPreconditionFailed is matched (errors.Is) by errors from a Put whose
// IfMatch or IfNoneMatch condition did not hold; nothing was written.
var ErrPreconditionFailed = errors.New("precondition failed")

const (
	// DefaultPartSize is the multipart part size used when Options.PartSize is 0.
	DefaultPartSize = 16 << 20
	// MinPartSize is the smallest part size S3 accepts (except for the last part).
	MinPartSize = 5 << 20
	// DefaultConcurrency is used when Options.Concurrency is 0.
	DefaultConcurrency = 4
	// maxParts is S3's limit on parts per multipart upload.
	maxParts = 10000
	// deleteBatch is S3's limit on keys per DeleteObjects call.
	deleteBatch = 1000
	// listPage is the page size requested when listing.
	listPage = 1000
)

// Options tunes a Bucket. The zero value is usable.
type Options struct {
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
	// PartSize is the multipart part size in bytes: bodies smaller than this are
	// uploaded with one request. Default DefaultPartSize; values below
	// MinPartSize are raised to MinPartSize for S3.
	PartSize int64
	// Concurrency bounds the parts of one upload in flight (so memory per Put is
	// at most Concurrency × PartSize) and the parallel single deletes on drivers
	// without batch delete. Default DefaultConcurrency.
	Concurrency int
}

// PutOptions describes an object to write.
type PutOptions struct {
	// ContentType of the object; sniffed from the first 512 bytes when empty.
	ContentType string
	// CacheControl and ContentEncoding are stored as the HTTP headers of the same name.
	CacheControl, ContentEncoding string
	// Metadata is user metadata. Keys are lowercased by the store; use
	// [a-z0-9-_.] keys. Values may be any UTF-8.
	Metadata map[string]string
	// Size is the body size when known, or -1 (or 0) when unknown. A
	// positive Size is a promise: Put fails with ErrBodySize, writing
	// nothing, when the body holds fewer or more bytes. It also chooses the
	// part size for huge bodies. (0 stays "unknown" for callers that predate
	// the check; an empty body needs no declaration.)
	Size int64
	// IfMatch makes the write conditional on the object's current ETag being
	// exactly this value (as returned by Put, Stat or List).
	IfMatch string
	// IfNoneMatch makes the write conditional on the object not existing.
	IfNoneMatch bool
}

// Object describes a stored object. Key is relative to the bucket prefix.
type Object struct {
	Key  string
	Size int64
	// ETag is the store's entity tag, quoted as the store reports it. For
	// multipart S3 uploads it is not an MD5 ("…-N").
	ETag string
	// MD5 of the content when the store knows it (nil otherwise).
	MD5         []byte
	Metadata    map[string]string
	ContentType string
	// CacheControl and ContentEncoding are the stored HTTP headers of the
	// same name (filled by Stat, and by NewReader where the read's response
	// carries them).
	CacheControl, ContentEncoding string
	ModTime                       time.Time
}

// Bucket is an open destination scoped to a key prefix. All keys passed to
// its methods are relative to Prefix. It is safe for concurrent use.
type Bucket struct {
	caps   Capabilities
	url    string // redacted
	prefix string
	drv    driver
	// store identifies the bucket, container or directory and the parameters
	// it was opened with: Copy between two Buckets with the same store may be
	// made by the store itself.
	store   string
	log     *slog.Logger
	part    int64
	conc    int
	stats   counters
	bufs    bufPool    // body buffers (body.go)
	ctypes  ctypeCache // normalised content types (put.go)
	closeMu sync.Mutex
	closed  bool
}

// Prefix returns the key prefix the bucket is scoped to: "" or "a/b/".
func (b *Bucket) Prefix() string { return b.prefix }

// URL returns the destination URL with credentials and unknown query values redacted.
func (b *Bucket) URL() string { return b.url }

// Kind returns the destination's scheme: "s3", "gs", "azblob", "file" or "mem".
func (b *Bucket) Kind() string { return b.caps.Scheme }

// Close releases the bucket. Closing twice is harmless.
func (b *Bucket) Close() error {
	b.closeMu.Lock()
	defer b.closeMu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if c, ok := b.drv.(io.Closer); ok {
		if err := c.Close(); err != nil {
			return fmt.Errorf("close %s: %w", b.url, err)
		}
	}
	return nil
}

// ErrClosed is matched (errors.Is) by the error of every operation on a closed Bucket.
var ErrClosed = errors.New("store closed")

// live returns ErrClosed (with the URL) once the bucket is closed.
func (b *Bucket) live() error {
	b.closeMu.Lock()
	defer b.closeMu.Unlock()
	if b.closed {
		return fmt.Errorf("%s: %w", b.url, ErrClosed)
	}
	return nil
}

// full returns the key including the prefix (the key in the underlying bucket).
func (b *Bucket) full(key string) string { return b.prefix + key }

// CheckKey reports whether key is acceptable as an object key relative to a
// prefix on every scheme: non-empty valid UTF-8 without control characters, no
// leading or trailing "/", no empty, "." or ".." segments, at most 1,024 bytes.
// A scheme may refuse more (file:// refuses names ending in ".attrs"): use
// Bucket.CheckKey to know whether a given destination can store a key.
func CheckKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty key")
	case !utf8.ValidString(key):
		return fmt.Errorf("key %q is not valid UTF-8", key)
	case strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/"):
		return fmt.Errorf("key %q starts or ends with /", key)
	case len(key) > 1024:
		return fmt.Errorf("key %.40q… is longer than 1024 bytes", key)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("key %q contains a control character", key)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("key %q has an empty, . or .. segment", key)
		}
	}
	return nil
}

// normETag strips weak markers and quotes so ETags from different sources compare equal.
func normETag(e string) string {
	e = strings.TrimPrefix(strings.TrimSpace(e), "W/")
	return strings.Trim(e, `"`)
}
