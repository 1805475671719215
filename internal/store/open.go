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
//     (also path_style=true, and the parameters gocloud's s3blob took, such
//     as s3ForcePathStyle, hostname_immutable, awssdk, profile). Request checksums
//     default to request_checksum_calculation=when_required and
//     response_checksum_validation=when_required, which S3-compatible servers
//     need; the region defaults to us-east-1 when neither the URL nor the
//     environment sets one. Credentials come from the environment.
//   - gs://bucket/prefix?anonymous=true (also access_id, private_key_path,
//     universe_domain, grpc=false: see openGCS); STORAGE_EMULATOR_HOST
//     selects an emulator.
//   - azblob://container/prefix?localemu=true&domain=127.0.0.1:10000&protocol=http
//     (also cdn, storage_account: see openAzure); credentials from
//     AZURE_STORAGE_* or the default Azure credential chain.
//   - file:///abs/path, file://./rel (relative to the working directory); the
//     directory is created. Its prefix comes from ?prefix=a/b only. One file
//     per object at exactly its key; each object's attributes (content type,
//     cache control, content encoding, metadata) in an extended attribute of
//     the file (fileDriver; ?metadata=xattr spells the default out). Where the
//     file system has no extended attributes, and with ?metadata=skip,
//     objects keep no attributes (Capabilities.StoresAttributes is false).
//     ?metadata=sidecar keeps them in side files NAME.attrs instead
//     (gocloud fileblob's format, the earlier default; ".attrs" names
//     reserved: sidecar.go).
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
	drv, err := def.open(ctx, b, t)
	if err != nil {
		return nil, err
	}
	b.drv = drv
	b.store = storeID(t, b)
	b.log.Debug("store opened", "url", b.url, "prefix", b.prefix)
	return b, nil
}

// maxIdleConnsPerHost is how many idle connections to the S3 endpoint are
// kept for reuse: enough for the most concurrent uploads a sync allows.
const maxIdleConnsPerHost = 256

// openS3 builds the S3 client (checksum defaults apply to every request
// ghsync makes) from the URL's parameters and the environment.
func openS3(ctx context.Context, b *Bucket, t target) (driver, error) {
	q := url.Values{}
	var clientOpts []func(*s3.Options)
	for k, vs := range t.query {
		v := vs[0]
		switch k {
		case "use_path_style", "s3ForcePathStyle", "disable_https", "accelerate":
			on, err := parseBool(v)
			if err != nil {
				return nil, fmt.Errorf("destination %s: %s: %w", t.redacted, k, err)
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
			return nil, fmt.Errorf("destination %s: %s is not supported yet", t.redacted, k)
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
		return nil, fmt.Errorf("destination %s: %w", t.redacted, err)
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
	return &s3Driver{b: b, client: s3.NewFromConfig(cfg, clientOpts...), name: t.bucket}, nil
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
// driver, attributes in extended attributes or (?metadata=sidecar) in side
// files NAME.attrs. Temporary files are written next to their final name so
// the rename never crosses filesystems.
func openFile(_ context.Context, b *Bucket, t target) (driver, error) {
	dir, err := filepath.Abs(t.dir)
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", t.redacted, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("destination %s: create directory: %w", t.redacted, err)
	}
	if t.variant == fileSidecar {
		return &fileDriver{b: b, dir: dir, attrs: true, sidecar: true}, nil
	}
	if b.caps.StoresAttributes && !xattrsSupported(dir) {
		b.log.Info("file://: the file system keeps no extended attributes; objects keep no content type or metadata", "dir", dir)
		b.caps = withoutAttributes(b.caps)
	}
	return &fileDriver{b: b, dir: dir, attrs: b.caps.StoresAttributes}, nil
}

// openMem opens the named in-process bucket (a fresh private one when the
// name is "").
func openMem(_ context.Context, b *Bucket, t target) (driver, error) {
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
	return &memDriver{b: b, s: s}, nil
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
