package store

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"runtime"
	"strings"
)

// Capabilities declares what a destination scheme can do and how. There is
// one declaration per scheme (see schemes); the rest of the package reads it
// instead of testing the scheme's name.
type Capabilities struct {
	// Scheme is the URL scheme: "s3", "gs", "azblob", "file" or "mem".
	Scheme string
	// CAS says how a conditional Put (IfMatch / IfNoneMatch) is made atomic.
	CAS string
	// PutReturnsETag is true when Put learns the ETag from the write's own
	// response; otherwise Put reads it back with one HEAD.
	PutReturnsETag bool
	// ListETags is true when listings carry ETags; otherwise List makes one
	// HEAD per object.
	ListETags bool
	// ReadReturnsETag is true when Read learns the ETag from the GET itself;
	// otherwise Read makes one HEAD as well.
	ReadReturnsETag bool
	// DeleteBatch is the number of keys one delete request removes (1: one
	// request per key, with at most Options.Concurrency in flight).
	DeleteBatch int
	// MinPartSize is the smallest multipart part size the store accepts (0: any).
	MinPartSize int64
	// ReservedSuffixes lists key endings the scheme cannot store as objects.
	ReservedSuffixes []string
	// ReservedChars lists characters the scheme cannot store in a key
	// (Azure Blob Storage turns "\" into "/").
	ReservedChars string
	// VerbatimKeys is true when every key CheckKey accepts is stored under
	// exactly its own name (no escaping by the blob library): what other tools
	// see in the store is the key. file:// stores keys containing gocloud's
	// escape form "__0x<hex>__" under an escaped file name (they still
	// round-trip through this package).
	VerbatimKeys bool
	// LocalWrites is true when a write is file-system calls on this machine
	// (file://): they are bound by the CPU and the file system's locks, so
	// more writes in flight than WriteConcurrency allows only contend.
	LocalWrites bool
	// StoresAttributes is true when an object keeps the attributes Put was
	// given — ContentType (or the sniffed one), CacheControl, ContentEncoding
	// and Metadata — and Stat returns them. When false (file:// with
	// ?metadata=skip) Put accepts them but stores none: Put and Stat report
	// an empty ContentType, no Metadata and no MD5, so nothing that relies on
	// them (repo sync's adoption by ghsync-blob metadata or MD5, the
	// ghsync-symlink marker, Content-Encoding: gzip on a status snapshot) is
	// available; the object's content, size and ETag are unaffected.
	StoresAttributes bool
	// ServerCopy is true when the store copies an object to another key of
	// the same store itself (Bucket.Copy), without the bytes passing
	// through ghsync: S3 CopyObject (objects up to 5 GiB; larger ones are
	// streamed), GCS rewrite, Azure Copy Blob, a file copy on file://, mem://.
	ServerCopy bool
	// KeyBlocksPrefix is true when an object at a key "a" and objects under
	// "a/" cannot exist together (file://: a file is not a folder), so one
	// must be deleted before the other is written.
	KeyBlocksPrefix bool
}

// driver performs the requests of one scheme. Keys are full keys (the
// Bucket's prefix included); Objects it returns carry full keys.
type driver interface {
	// put writes the object; o is validated and normalised, and a condition
	// in o must be enforced atomically.
	put(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error)
	// read returns the content and ETag of a small object (at most maxRead+1 bytes are read).
	read(ctx context.Context, key string) ([]byte, string, error)
	// stat returns the object's attributes.
	stat(ctx context.Context, key string) (Object, error)
	// listPage returns one page (at most listPage objects) of the objects
	// whose keys start with prefix, in key order, and the next page's token
	// ("" after the last page).
	listPage(ctx context.Context, prefix, token string) ([]Object, string, error)
	// delete removes keys; missing keys are not errors.
	delete(ctx context.Context, keys []string) error
	// open opens the object for a streaming read of the stored bytes and
	// returns what the response says of it (at least Size, ETag and
	// ContentType). Drivers declaring Capabilities.ServerCopy also implement
	// copier.
	open(ctx context.Context, key string) (io.ReadCloser, Object, error)
}

// schemeDef is a scheme's declaration: its capabilities and how to open it.
type schemeDef struct {
	caps Capabilities
	// parse checks the URL's host and parameters (q may be rewritten) and
	// fills scheme-specific fields of t.
	parse func(u *url.URL, q url.Values, t *target) error
	// pathIsDir: the URL path is a directory, not a key prefix (file://).
	pathIsDir bool
	// open connects the driver. It reads b.caps (already the variant's) for
	// what the URL asked for. A driver that holds resources implements
	// io.Closer (Bucket.Close calls it).
	open func(ctx context.Context, b *Bucket, t target) (driver, error)
	// variants are the scheme's other declared capabilities, chosen by a URL
	// parameter (parse sets target.variant to the key).
	variants map[string]Capabilities
}

// fileNoAttrs names file://'s variant without attributes (?metadata=skip);
// fileSidecar the one with gocloud fileblob's NAME.attrs side files
// (?metadata=sidecar, the default before extended attributes).
const (
	fileNoAttrs = "metadata=skip"
	fileSidecar = "metadata=sidecar"
)

// fileCaps are file://'s capabilities: one file per object under exactly
// its key, attributes in an extended attribute of the file (fileDriver).
var fileCaps = Capabilities{Scheme: "file", CAS: "If-None-Match: the new file moved into place only if no file has its name (renameat2 RENAME_NOREPLACE, or link(2)); If-Match: an flock on the object's file (across processes on one machine)",
	PutReturnsETag: true, ListETags: true, ReadReturnsETag: true, DeleteBatch: 1, VerbatimKeys: true,
	LocalWrites: true, StoresAttributes: true, ServerCopy: true, KeyBlocksPrefix: true}

// fileSidecarCaps are those of ?metadata=sidecar: attributes in side files
// NAME.attrs of gocloud fileblob's format (sidecar.go), so names ending in
// ".attrs" are reserved (refused as keys, left out of listings, NAME.attrs
// removed with NAME), and names holding gocloud's escape form "__0x…__" are
// stored under fileblob's escaped file name.
var fileSidecarCaps = Capabilities{Scheme: "file", CAS: fileCaps.CAS,
	PutReturnsETag: true, ListETags: true, ReadReturnsETag: true, DeleteBatch: 1,
	ReservedSuffixes: []string{".attrs"}, LocalWrites: true, StoresAttributes: true, ServerCopy: true}

// withoutAttributes returns c for a variant that stores no object attributes.
func withoutAttributes(c Capabilities) Capabilities {
	c.StoresAttributes = false
	return c
}

// capsFor returns the declared capabilities for a parsed URL: the scheme's,
// or those of the variant its parameters chose.
func (d schemeDef) capsFor(t target) (Capabilities, error) {
	if t.variant == "" {
		return d.caps, nil
	}
	c, ok := d.variants[t.variant]
	if !ok { // parse sets only declared variants
		return Capabilities{}, fmt.Errorf("destination %s: %s:// declares no variant %q", t.redacted, t.kind, t.variant)
	}
	return c, nil
}

// schemes is the one declaration of every supported scheme.
var schemes = map[string]schemeDef{
	"s3": {caps: Capabilities{Scheme: "s3", CAS: "If-Match / If-None-Match request headers",
		PutReturnsETag: true, ListETags: true, ReadReturnsETag: true, DeleteBatch: deleteBatch,
		MinPartSize: MinPartSize, VerbatimKeys: true, StoresAttributes: true, ServerCopy: true}, parse: parseS3, open: openS3},
	"gs": {caps: Capabilities{Scheme: "gs", CAS: "object generation preconditions (ifGenerationMatch / ifGenerationMatch=0)",
		PutReturnsETag: true, ListETags: true, ReadReturnsETag: false, DeleteBatch: 1,
		VerbatimKeys: true, StoresAttributes: true, ServerCopy: true}, parse: parseCloud, open: openGCS},
	"azblob": {caps: Capabilities{Scheme: "azblob", CAS: "blob ETag access conditions (If-Match / If-None-Match: *)",
		PutReturnsETag: true, ListETags: true, ReadReturnsETag: true, DeleteBatch: azureBatch,
		ReservedChars: `\`, VerbatimKeys: true, StoresAttributes: true, ServerCopy: true}, parse: parseCloud, open: openAzure},
	"file": {caps: fileCaps, parse: parseFile, pathIsDir: true, open: openFile,
		variants: map[string]Capabilities{fileNoAttrs: withoutAttributes(fileCaps), fileSidecar: fileSidecarCaps}},
	"mem": {caps: Capabilities{Scheme: "mem", CAS: "a mutex per named bucket (one process)",
		PutReturnsETag: true, ListETags: true, ReadReturnsETag: true, DeleteBatch: 1, VerbatimKeys: true, StoresAttributes: true,
		ServerCopy: true},
		parse: parseMem, open: openMem},
}

// WriteConcurrency returns how many Puts a caller wanting want in flight
// should run at once: want, except on schemes with LocalWrites, where it is
// at most two per CPU core. (Syncing 10,000 small files into file:// on two
// cores: 1.4 s with 4 writers, 1.7–2.1 s with 16.)
func (b *Bucket) WriteConcurrency(want int) int {
	if b.caps.LocalWrites {
		return max(1, min(want, 2*runtime.NumCPU()))
	}
	return max(1, want)
}

// Capabilities returns the declared capabilities of the bucket's scheme.
func (b *Bucket) Capabilities() Capabilities {
	c := b.caps
	c.ReservedSuffixes = append([]string(nil), c.ReservedSuffixes...)
	return c
}

// SchemeCapabilities returns the declared capabilities of a scheme ("s3",
// "gs", "azblob", "file", "mem") as opened without variant parameters (a
// URL's parameters may choose a variant, e.g. file://…?metadata=skip: see
// Bucket.Capabilities); ok is false for an unknown scheme.
func SchemeCapabilities(scheme string) (Capabilities, bool) {
	d, ok := schemes[scheme]
	if !ok {
		return Capabilities{}, false
	}
	c := d.caps
	c.ReservedSuffixes = append([]string(nil), c.ReservedSuffixes...)
	return c, true
}

// CheckKey reports whether this bucket can store key: the portable rules of
// the package-level CheckKey plus the scheme's own (file://?metadata=sidecar
// cannot store keys ending in ".attrs", which fileblob reserves for side
// files; azblob:// cannot store "\", which the service turns into "/"). The
// error says which rule the key breaks; for a scheme rule it matches
// ErrUnstorable.
func (b *Bucket) CheckKey(key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	return checkScheme(b.caps, b.full(key))
}

func checkScheme(c Capabilities, full string) error {
	if i := strings.IndexAny(full, c.ReservedChars); c.ReservedChars != "" && i >= 0 {
		return &UnstorableError{Key: full, Scheme: c.Scheme,
			Reason: fmt.Sprintf("the %s:// service does not keep %q in names", c.Scheme, full[i:i+1])}
	}
	for _, s := range c.ReservedSuffixes {
		if strings.HasSuffix(full, s) {
			return &UnstorableError{Key: full, Scheme: c.Scheme,
				Reason: "the " + c.Scheme + ":// driver reserves names ending in " + s}
		}
	}
	return nil
}
