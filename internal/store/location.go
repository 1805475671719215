package store

import (
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Location is where a store URL's objects live, normalised so that two
// URLs can be compared: different spellings of one place are equal
// (file://./out/site and file://./out?prefix=site, a relative folder and its
// absolute path), and the query parameters that do not change which objects
// are addressed (region, checksums, metadata=skip, …) are left out.
type Location struct {
	// Space names the key space: the scheme and the bucket or container,
	// with the endpoint (s3) or account and domain (azblob) that serves it;
	// "file" for every folder. It is "" for a private mem:// bucket (no
	// name), which no other URL can reach.
	Space string
	// Prefix is the key prefix in Space, "" or "a/b/"; for file:// it is
	// the absolute folder (symbolic links resolved) with a trailing "/", so
	// that nested folders compare as nested prefixes.
	Prefix string
	// Dir is, for file://, the absolute folder (symbolic links resolved)
	// that holds the objects: the URL's folder joined with its prefix.
	Dir string
}

// Locate parses a store URL (see Open) into its Location. Relative file://
// folders are made absolute against the working directory.
func Locate(rawURL string) (Location, error) {
	t, err := parseURL(rawURL)
	if err != nil {
		return Location{}, err
	}
	switch t.kind {
	case "file":
		abs, err := filepath.Abs(filepath.Join(t.dir, filepath.FromSlash(t.prefix)))
		if err != nil {
			return Location{}, err
		}
		dir := RealPath(abs)
		return Location{Space: "file", Prefix: strings.TrimSuffix(filepath.ToSlash(dir), "/") + "/", Dir: dir}, nil
	case "mem":
		if t.bucket == "" {
			return Location{Prefix: t.prefix}, nil
		}
		return Location{Space: "mem://" + t.bucket, Prefix: t.prefix}, nil
	case "s3":
		space := "s3://" + t.bucket
		if ep := t.query.Get("endpoint"); ep != "" {
			if u, err := url.Parse(ep); err == nil {
				space += "@" + strings.ToLower(u.Host)
			}
		}
		return Location{Space: space, Prefix: t.prefix}, nil
	case "azblob":
		space := "azblob://" + t.bucket
		for _, k := range []string{"storage_account", "domain", "localemu"} {
			if v := t.query.Get(k); v != "" {
				space += "&" + k + "=" + strings.ToLower(v)
			}
		}
		return Location{Space: space, Prefix: t.prefix}, nil
	default:
		return Location{Space: t.kind + "://" + t.bucket, Prefix: t.prefix}, nil
	}
}

// Overlaps reports whether l and o can address the same objects: the same
// key space, and one prefix equal to the other or inside it on a "/"
// boundary (site/ and site/docs/ overlap; site/ and site2/ do not).
func (l Location) Overlaps(o Location) bool {
	if l.Space == "" || l.Space != o.Space {
		return false
	}
	return strings.HasPrefix(l.Prefix, o.Prefix) || strings.HasPrefix(o.Prefix, l.Prefix)
}

// RealPath returns the absolute path abs with symbolic links resolved in
// the part of it that exists (a folder not created yet keeps its remaining
// names as written), so that two spellings of one folder compare equal.
func RealPath(abs string) string {
	abs = filepath.Clean(abs)
	var rest []string
	for p := abs; ; {
		r, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(append([]string{r}, rest...)...)
		}
		parent := filepath.Dir(p)
		if parent == p || !(errors.Is(err, fs.ErrNotExist) || errors.Is(err, os.ErrInvalid)) {
			return abs
		}
		rest = append([]string{filepath.Base(p)}, rest...)
		p = parent
	}
}
