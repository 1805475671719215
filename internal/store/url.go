package store

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// target is a parsed destination URL.
type target struct {
	kind   string // "s3", "gs", "azblob", "file", "mem"
	bucket string // bucket / container / mem name ("" for file)
	prefix string // "" or "a/b/"
	dir    string // file: the directory (absolute or relative to cwd)
	// variant names a declared capability variant of the scheme ("" for the
	// default; see schemeDef.variants), e.g. fileNoAttrs for file://?metadata=skip.
	variant  string
	query    url.Values // driver query parameters (aliases resolved, prefix removed)
	redacted string
}

// safeParams are query parameters whose values are never secret and are shown
// as-is in redacted URLs; every other value is replaced by REDACTED.
var safeParams = map[string]bool{
	"region": true, "endpoint": true, "use_path_style": true, "s3ForcePathStyle": true,
	"path_style": true, "disable_https": true, "hostname_immutable": true, "awssdk": true,
	"profile": true, "dualstack": true, "fips": true, "accelerate": true, "ssetype": true,
	"request_checksum_calculation": true, "response_checksum_validation": true,
	"rate_limiter_capacity": true, "anonymous": true, "prefix": true, "domain": true,
	"protocol": true, "localemu": true, "storage_account": true, "metadata": true,
	"cdn": true, "universe_domain": true, "grpc": true, "zonal": true,
}

// s3Params are the query parameters accepted for s3:// URLs.
var s3Params = map[string]bool{
	"region": true, "endpoint": true, "use_path_style": true, "s3ForcePathStyle": true,
	"path_style": true, "disable_https": true, "hostname_immutable": true, "awssdk": true,
	"profile": true, "dualstack": true, "fips": true, "accelerate": true, "ssetype": true,
	"kmskeyid": true, "request_checksum_calculation": true, "response_checksum_validation": true,
	"rate_limiter_capacity": true, "anonymous": true, "role": true,
}

var bucketName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// redactURL renders u without credentials: userinfo and the values of query
// parameters not known to be harmless are replaced by REDACTED.
func redactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User("REDACTED")
	}
	q := c.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range q[k] {
			if !safeParams[k] {
				v = "REDACTED"
			} else if e, err := url.Parse(v); k == "endpoint" && (err != nil || e.User != nil) {
				v = "REDACTED"
			}
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
		}
	}
	c.RawQuery = strings.Join(parts, "&")
	c.Fragment, c.RawFragment = "", ""
	s := c.String()
	if c.Scheme != "" && !strings.HasPrefix(s, c.Scheme+"://") {
		s = c.Scheme + "://" + strings.TrimPrefix(s, c.Scheme+":") // url.URL renders mem:// as "mem:"
	}
	return s
}

// normPrefix turns a URL path into "" or "a/b/", rejecting empty, "." and ".." segments.
func normPrefix(p string) (string, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return "", nil
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("prefix %q has an empty, . or .. segment", p)
		}
	}
	if strings.Contains(p, "__0x") || strings.HasSuffix(p, ".attrs") {
		return "", fmt.Errorf("prefix %q uses a reserved sequence (__0x or .attrs)", p)
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("prefix %q contains a control character", p)
		}
	}
	return p + "/", nil
}

// parseURL parses a destination URL (see Open for the accepted forms). Errors
// name the redacted URL and the problem, never the raw URL.
func parseURL(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error text would echo the raw URL
		}
		return target{}, fmt.Errorf("destination URL cannot be parsed: %v", err)
	}
	t := target{kind: u.Scheme, redacted: redactURL(u)}
	fail := func(format string, a ...any) (target, error) {
		return target{}, fmt.Errorf("destination %s: %s", t.redacted, fmt.Sprintf(format, a...))
	}
	if u.Scheme == "" {
		return fail("missing scheme (want s3://, gs://, azblob://, file:// or mem://)")
	}
	if u.User != nil {
		return fail("credentials in the URL are not allowed; use the environment or a profile")
	}
	if u.Fragment != "" {
		return fail("a fragment (#…) is not allowed")
	}
	if u.Opaque != "" {
		return fail("want %s://BUCKET/PREFIX", u.Scheme)
	}
	def, ok := schemes[u.Scheme]
	if !ok {
		return fail("unsupported scheme %q (want s3, gs, azblob, file or mem)", u.Scheme)
	}
	q := u.Query()
	extra, err := normPrefix(q.Get("prefix"))
	if err != nil {
		return fail("%v", err)
	}
	q.Del("prefix")
	pathPrefix := ""
	if !def.pathIsDir {
		if pathPrefix, err = normPrefix(u.Path); err != nil {
			return fail("%v", err)
		}
	}
	t.prefix = pathPrefix + extra
	t.bucket = u.Host
	if err := def.parse(u, q, &t); err != nil {
		return fail("%v", err)
	}
	t.query = q
	return t, nil
}

// parseS3 checks an s3:// URL's bucket name and parameters.
func parseS3(u *url.URL, q url.Values, _ *target) error {
	if !bucketName.MatchString(u.Host) {
		return fmt.Errorf("missing or invalid bucket name %q", u.Host)
	}
	if n := len(u.Host); n < 3 || n > 63 {
		return fmt.Errorf("bucket name %q must be 3 to 63 characters long", u.Host)
	}
	for k := range q {
		if !s3Params[k] {
			return fmt.Errorf("unknown query parameter %q", k)
		}
	}
	if v := q.Get("path_style"); v != "" {
		q.Del("path_style")
		q.Set("use_path_style", v)
	}
	if ep := q.Get("endpoint"); ep != "" {
		e, err := url.Parse(ep)
		if err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" || e.User != nil {
			return errors.New("endpoint must be an http:// or https:// URL without credentials")
		}
	}
	return nil
}

// parseCloud checks a gs:// or azblob:// URL's bucket (container) name; the
// parameters are checked when the bucket is opened (gcsOptions, azureService.withParams).
func parseCloud(u *url.URL, _ url.Values, _ *target) error {
	if !bucketName.MatchString(u.Host) {
		return fmt.Errorf("missing or invalid bucket name %q", u.Host)
	}
	return nil
}

// parseMem checks a mem:// URL (an optional name, no parameters).
func parseMem(u *url.URL, q url.Values, _ *target) error {
	if u.Host != "" && !bucketName.MatchString(u.Host) {
		return fmt.Errorf("invalid bucket name %q", u.Host)
	}
	if len(q) > 0 {
		return errors.New("mem:// takes no query parameters")
	}
	return nil
}

// parseFile takes a file:// URL's directory from its path.
func parseFile(u *url.URL, q url.Values, t *target) error {
	switch u.Host {
	case "":
		if !strings.HasPrefix(u.Path, "/") {
			return errors.New("want file:///absolute/path or file://./relative/path")
		}
		t.dir = filepath.FromSlash(u.Path)
	case ".":
		t.dir = filepath.FromSlash("./" + strings.TrimPrefix(u.Path, "/"))
	default:
		return fmt.Errorf("want file:///absolute/path or file://./relative/path (host %q is not allowed)", u.Host)
	}
	for k, vs := range q {
		if k != "metadata" {
			return fmt.Errorf("unknown query parameter %q (file:// takes only prefix and metadata)", k)
		}
		if len(vs) != 1 {
			return fmt.Errorf("query parameter metadata is given %d times; give it once (xattr, skip or sidecar)", len(vs))
		}
		switch vs[0] {
		case fileMetaXattr:
		case fileMetaSidecar:
			t.variant = fileSidecar
		case fileMetaSkip:
			t.variant = fileNoAttrs
		default:
			return fmt.Errorf("query parameter metadata=%q: want xattr (the default: attributes in extended attributes), skip (no attributes) or sidecar (NAME.attrs side files)", vs[0])
		}
	}
	q.Del("metadata")
	t.bucket = ""
	return nil
}

// Values of file://'s metadata query parameter (gocloud's fileblob spells the
// first one the same way).
const (
	// fileMetaXattr: each object's attributes in an extended attribute of
	// its file (the default; none where the file system has none).
	fileMetaXattr = "xattr"
	// fileMetaSkip: objects keep no attributes (Capabilities.StoresAttributes is false).
	fileMetaSkip = "skip"
	// fileMetaSidecar: each object's attributes in a side file NAME.attrs
	// (gocloud fileblob's format; names ending in .attrs are reserved).
	fileMetaSidecar = "sidecar"
)
