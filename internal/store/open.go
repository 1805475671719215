package store

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	gcaws "gocloud.dev/aws"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // registers azblob://
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/gcsblob" // registers gs://
	"gocloud.dev/blob/memblob"
	"gocloud.dev/blob/s3blob"
)

// memRegistry holds the named mem:// buckets. It is deliberately process-wide
// (the one piece of package state): reopening mem://name in the same process,
// as tests do, must see the same objects.
var memRegistry = struct {
	sync.Mutex
	m map[string]*memEntry
}{m: map[string]*memEntry{}}

type memEntry struct {
	bucket *blob.Bucket // never used directly; each Open wraps its driver
	mu     *sync.Mutex  // serialises conditional writes on this bucket
}

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
//     directory is created. Its prefix comes from ?prefix=a/b only.
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
	b := &Bucket{kind: t.kind, url: t.redacted, prefix: t.prefix, log: opts.Logger,
		part: opts.PartSize, conc: opts.Concurrency}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.part <= 0 {
		b.part = DefaultPartSize
	}
	if b.conc <= 0 {
		b.conc = DefaultConcurrency
	}
	var base *blob.Bucket
	switch t.kind {
	case "s3":
		if b.part < MinPartSize {
			b.part = MinPartSize
		}
		base, err = b.openS3(ctx, t)
	case "file":
		base, err = b.openFile(t)
	case "mem":
		b.view, b.memMu = openMem(t.bucket, t.prefix)
		return b, nil
	default: // gs, azblob
		u := url.URL{Scheme: t.kind, Host: t.bucket, RawQuery: t.query.Encode()}
		base, err = blob.OpenBucket(ctx, u.String())
		if err != nil {
			err = fmt.Errorf("open %s: %w", t.redacted, err)
		}
	}
	if err != nil {
		return nil, err
	}
	b.view = base
	if t.prefix != "" {
		b.view = blob.PrefixedBucket(base, t.prefix)
	}
	b.log.Debug("store opened", "url", b.url, "prefix", b.prefix)
	return b, nil
}

// openS3 builds the S3 client itself (so that checksum defaults apply to every
// request ghsync makes) and hands it to s3blob.
func (b *Bucket) openS3(ctx context.Context, t target) (*blob.Bucket, error) {
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
	cfg, err := gcaws.V2ConfigFromURLParams(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", t.redacted, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	cfg.Logger = sdkLogger{b.log} // the SDK's own warnings go through slog, not raw stderr
	b.s3 = s3.NewFromConfig(cfg, clientOpts...)
	b.s3Name = t.bucket
	bkt, err := s3blob.OpenBucket(ctx, b.s3, t.bucket, &s3blob.Options{
		RequestChecksumCalculation: cfg.RequestChecksumCalculation,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t.redacted, err)
	}
	return bkt, nil
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

// openFile opens (creating if needed) a directory bucket. Temporary files are
// written next to their final name so the rename never crosses filesystems.
func (b *Bucket) openFile(t target) (*blob.Bucket, error) {
	dir, err := filepath.Abs(t.dir)
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", t.redacted, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("destination %s: create directory: %w", t.redacted, err)
	}
	bkt, err := fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: true})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t.redacted, err)
	}
	b.dir = dir
	return bkt, nil
}

// openMem returns a view of the named in-process bucket (fresh when name is "").
func openMem(name, prefix string) (*blob.Bucket, *sync.Mutex) {
	if name == "" {
		return blob.PrefixedBucket(memblob.OpenBucket(nil), prefix), &sync.Mutex{}
	}
	memRegistry.Lock()
	defer memRegistry.Unlock()
	e := memRegistry.m[name]
	if e == nil {
		e = &memEntry{bucket: memblob.OpenBucket(nil), mu: &sync.Mutex{}}
		memRegistry.m[name] = e
	}
	// PrefixedBucket wraps the shared driver in a new *blob.Bucket, so closing
	// this view does not affect other opens of the same name.
	return blob.PrefixedBucket(e.bucket, prefix), e.mu
}
