package store

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/s3blob"
)

// memRegistry holds the named mem:// buckets. It is deliberately process-wide
// (the one piece of package state): reopening mem://name in the same process,
// as tests do, must see the same objects.
var memRegistry = struct {
	sync.Mutex
	m map[string]*memStore
}{m: map[string]*memStore{}}

// Open parses a destination URL and returns a Bucket scoped to its key prefix.
//
// Forms:
//   - s3://bucket/prefix/?region=R&endpoint=http://127.0.0.1:7070&use_path_style=true&disable_https=true
//     (also path_style=true, and gocloud's own parameters such as
//     s3ForcePathStyle, hostname_immutable, awssdk, profile). Request checksums
//     default to request_checksum_calculation=when_required and
//     response_checksum_validation=when_required, which S3-compatible servers
//     need; the region defaults to us-east-1 when neither the URL nor the
//     environment sets one. Credentials come from the environment.
//   - gs://bucket/prefix, azblob://container/prefix (gocloud's parameters).
//   - file:///abs/path, file://./rel (relative to the working directory); the
//     directory is created. Its prefix comes from ?prefix=a/b only. One file
//     per object at exactly its key; each object's attributes (content type,
//     cache control, content encoding, metadata) in an extended attribute of
//     the file (fileDriver; ?metadata=xattr spells the default out). Where the
//     file system has no extended attributes, and with ?metadata=skip,
//     objects keep no attributes (Capabilities.StoresAttributes is false).
//     ?metadata=sidecar keeps them in side files NAME.attrs instead
//     (gocloud's fileblob, the earlier default; ".attrs" names reserved).
//   - mem://name/prefix: named in-process buckets shared within the process;
//     mem:// without a name is a fresh private bucket.
//
// Every form also accepts ?prefix=x/y, appended to the path prefix. The prefix
// is normalised to "" or "x/y/". Bad URLs are rejected with an error naming the
// redacted URL and the problem.
func Open(ctx context.Context, rawURL string, opts Options) (*Bucket, error) {
	t, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	def, ok := schemes[t.kind]
	if !ok { // parseURL accepts only declared schemes
		return nil, fmt.Errorf("destination %s: unsupported scheme %q", t.redacted, t.kind)
	}
	caps, err := def.capsFor(t)
	if err != nil {
		return nil, err
	}
	b := &Bucket{caps: caps, url: t.redacted, prefix: t.prefix, log: opts.Logger,
		part: opts.PartSize, conc: opts.Concurrency}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.part <= 0 {
		b.part = DefaultPartSize
	}
	b.part = max(b.part, caps.MinPartSize)
	if b.conc <= 0 {
		b.conc = DefaultConcurrency
	}
	drv, view, err := def.open(ctx, b, t)
	if err != nil {
		return nil, err
	}
	b.drv, b.view = drv, view
	b.store = storeID(t, b)
	b.log.Debug("store opened", "url", b.url, "prefix", b.prefix)
	return b, nil
}

// openGocloud opens a gs:// or azblob:// URL with gocloud's URL opener, which
// reads the scheme's parameters, credentials and emulator settings.
func openGocloud(ctx context.Context, t target) (*blob.Bucket, error) {
	u := url.URL{Scheme: t.kind, Host: t.bucket, RawQuery: t.query.Encode()}
	base, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t.redacted, err)
	}
	return base, nil
}

// openS3 builds the S3 client itself (so that checksum defaults apply to every
// request ghsync makes) and hands it to s3blob.
// maxIdleConnsPerHost is how many idle connections to the S3 endpoint are
// kept for reuse: enough for the most concurrent uploads a sync allows.
const maxIdleConnsPerHost = 256

func openS3(ctx context.Context, b *Bucket, t target) (driver, *blob.Bucket, error) {
	q := url.Values{}
	var clientOpts []func(*s3.Options)
	for k, vs := range t.query {
		v := vs[0]
		switch k {
		case "use_path_style", "s3ForcePathStyle", "disable_https", "accelerate":
			on, err := parseBool(v)
			if err != nil {
				return nil, nil, fmt.Errorf("destination %s: %s: %w", t.redacted, k, err)
			}
			switch k {
			case "disable_https":
				clientOpts = append(clientOpts, func(o *s3.Options) { o.EndpointOptions.DisableHTTPS = on })
			case "accelerate":
				clientOpts = append(clientOpts, func(o *s3.Options) { o.UseAccelerate = on })
			default:
				clientOpts = append(clientOpts, func(o *s3.Options) { o.UsePathStyle = on })
			}
		case "ssetype", "kmskeyid":
			return nil, nil, fmt.Errorf("destination %s: %s is not supported yet", t.redacted, k)
		case "awssdk":
			// gocloud's SDK selector; only v2 exists now.
		default:
			q[k] = vs
		}
	}
	if q.Get("request_checksum_calculation") == "" {
		q.Set("request_checksum_calculation", "when_required")
	}
	if q.Get("response_checksum_validation") == "" {
		q.Set("response_checksum_validation", "when_required")
	}
	cfg, err := awsConfig(ctx, q, b.log)
	if err != nil {
		return nil, nil, fmt.Errorf("destination %s: %w", t.redacted, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if hc, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		// The SDK keeps 10 idle connections per host: with more requests in
		// flight (repo sync's default is 16 uploads) every request beyond them
		// would open, and then close, a connection of its own.
		cfg.HTTPClient = hc.WithTransportOptions(func(tr *http.Transport) {
			tr.MaxIdleConnsPerHost = max(tr.MaxIdleConnsPerHost, maxIdleConnsPerHost)
		})
	}
	d := &s3Driver{b: b, client: s3.NewFromConfig(cfg, clientOpts...), name: t.bucket}
	bkt, err := s3blob.OpenBucket(ctx, d.client, t.bucket, &s3blob.Options{
		RequestChecksumCalculation: cfg.RequestChecksumCalculation,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", t.redacted, err)
	}
	return d, blob.PrefixedBucket(bkt, t.prefix), nil
}

func parseBool(v string) (bool, error) {
	switch v {
	case "1", "t", "true", "TRUE", "True":
		return true, nil
	case "0", "f", "false", "FALSE", "False":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q", v)
}

// openFile opens (creating if needed) a directory bucket: ghsync's own file
// driver, or with ?metadata=sidecar gocloud's fileblob (side files).
// Temporary files are written next to their final name so the rename never
// crosses filesystems.
func openFile(_ context.Context, b *Bucket, t target) (driver, *blob.Bucket, error) {
	dir, err := filepath.Abs(t.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("destination %s: %w", t.redacted, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("destination %s: create directory: %w", t.redacted, err)
	}
	if t.variant != fileSidecar {
		if b.caps.StoresAttributes && !xattrsSupported(dir) {
			b.log.Info("file://: the file system keeps no extended attributes; objects keep no content type or metadata", "dir", dir)
			b.caps = withoutAttributes(b.caps)
		}
		return &fileDriver{b: b, dir: dir, attrs: b.caps.StoresAttributes}, nil, nil
	}
	fo := &fileblob.Options{NoTempDir: true}
	bkt, err := fileblob.OpenBucket(dir, fo)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", t.redacted, err)
	}
	root, err := fileblob.OpenBucket(dir, fo)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", t.redacted, err)
	}
	view := blob.PrefixedBucket(bkt, t.prefix)
	return &gocloudDriver{b: b, view: view, root: root, prefix: t.prefix, dir: dir,
		lock: func(ctx context.Context) (func(), error) { return lockDir(ctx, dir) }}, view, nil
}

// openMem opens the named in-process bucket (a fresh private one when the
// name is "").
func openMem(_ context.Context, b *Bucket, t target) (driver, *blob.Bucket, error) {
	var s *memStore
	if t.bucket == "" {
		s = &memStore{objs: map[string]*memObj{}}
	} else {
		memRegistry.Lock()
		s = memRegistry.m[t.bucket]
		if s == nil {
			s = &memStore{objs: map[string]*memObj{}}
			memRegistry.m[t.bucket] = s
		}
		memRegistry.Unlock()
	}
	return &memDriver{b: b, s: s}, nil, nil
}

// storeID identifies the store a target opens (see Bucket.store): scheme,
// bucket or directory and the driver parameters, never the key prefix. A
// private mem:// bucket is a store of its own.
func storeID(t target, b *Bucket) string {
	switch {
	case t.kind == "mem" && t.bucket == "":
		return fmt.Sprintf("mem:%p", b)
	case t.kind == "file":
		dir, err := filepath.Abs(t.dir)
		if err != nil {
			dir = t.dir
		}
		return "file:" + dir + "?" + t.query.Encode()
	}
	return t.kind + ":" + t.bucket + "?" + t.query.Encode()
}
