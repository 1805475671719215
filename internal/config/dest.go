package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// storeSchemes are the URL schemes accepted for stores and destinations.
var storeSchemes = []string{"s3", "gs", "azblob", "file", "mem"}

// hasScheme reports whether s starts with "SCHEME://".
func hasScheme(s string) bool {
	i := strings.Index(s, "://")
	if i <= 0 {
		return false
	}
	for _, c := range s[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// ResolveDest returns dest when it is a URL ("s3://…", "file://…"), and
// otherwise joins the relative prefix dest onto the storage URL, keeping the
// storage URL's query: ResolveDest("s3://b?region=r", "site/") ==
// "s3://b/site/?region=r", ResolveDest("s3://b/base", "x/") == "s3://b/base/x/".
// An empty dest yields storage itself.
func ResolveDest(storage, dest string) string {
	if hasScheme(dest) {
		return dest
	}
	dest = strings.TrimLeft(dest, "/")
	if dest == "" {
		return storage
	}
	base, query, hasQuery := strings.Cut(storage, "?")
	switch {
	case strings.HasSuffix(base, "://"):
		base += "/" // no host: keep the prefix in the path (mem:///x/)
	case !strings.HasSuffix(base, "/"):
		base += "/"
	}
	out := base + dest
	if hasQuery {
		out += "?" + query
	}
	return out
}

// checkStoreURL returns a problem description for a store URL, or "".
func checkStoreURL(s string) string {
	u, err := url.Parse(s)
	if !hasScheme(s) {
		if m := checkURLTypo(s); m != "" {
			return m
		}
	}
	if err != nil || !hasScheme(s) {
		return "must be a store URL such as s3://bucket/prefix/?region=…, gs://…, azblob://…, file://./dir or mem://"
	}
	for _, sc := range storeSchemes {
		if u.Scheme == sc {
			return ""
		}
	}
	return "unsupported store scheme " + quote(u.Scheme) + " (use s3, gs, azblob, file or mem)"
}

// checkDest returns a problem description for a destination (a store URL or
// a relative prefix), or "".
func checkDest(s string) string {
	if hasScheme(s) {
		return checkStoreURL(s)
	}
	if m := checkURLTypo(s); m != "" {
		return m
	}
	if strings.HasPrefix(s, "/") {
		return "a relative destination must not start with \"/\" (use a URL such as file:///abs/path for absolute paths)"
	}
	return checkKey(s)
}

// urlLike matches a value that starts like a URL: a scheme-like word and a
// colon before the first "/" ("s3:/b", "s3:b", "file:/tmp", "mem:").
var urlLike = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*):([^/]*)(/.*)?$`)

// checkURLTypo returns a problem description for a destination that looks
// like a URL but lacks the "//" after its scheme ("s3:/bucket/x"), or "".
// Such values would otherwise be taken as a relative prefix under storage:
// and quietly written to the wrong place. The message names the likely
// intent ("did you mean s3://bucket/x?").
func checkURLTypo(s string) string {
	m := urlLike.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	scheme, rest := strings.ToLower(m[1]), strings.TrimLeft(m[2]+m[3], "/")
	known := false
	for _, sc := range storeSchemes {
		known = known || sc == scheme
	}
	if !known {
		return fmt.Sprintf("looks like a URL, but %q is not a store scheme (use s3://, gs://, azblob://, file:// or mem://; a relative prefix must not contain \":\" before its first \"/\")", m[1]+":")
	}
	guess := scheme + "://" + rest
	if scheme == "file" {
		if strings.HasPrefix(m[2]+m[3], "/") {
			guess = "file:///" + rest // file:/tmp/x → file:///tmp/x
		} else {
			guess = "file://./" + rest // file:x → file://./x
		}
	}
	return fmt.Sprintf("is not a store URL: a scheme needs \"//\" after the colon; did you mean %s?", guess)
}

// checkKey returns a problem description for a relative object key or
// prefix, or "".
func checkKey(s string) string {
	if strings.HasPrefix(s, "/") {
		return "must be a relative key (no leading \"/\")"
	}
	if strings.ContainsRune(s, 0) || strings.Contains(s, "\\") {
		return "must not contain NUL or backslashes"
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == ".." {
			return "must not contain \"..\" segments"
		}
	}
	return ""
}

func quote(s string) string { return `"` + truncate(s, 40) + `"` }
