package config

import (
	"net/url"
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
	if strings.HasPrefix(s, "/") {
		return "a relative destination must not start with \"/\" (use a URL such as file:///abs/path for absolute paths)"
	}
	return checkKey(s)
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
