package store

import (
	"net/url"
	"strings"
)

// BucketOf returns the bucket name of an s3:// URL or a bare bucket name,
// and the key prefix it names ("" or "a/b/", including a ?prefix= query);
// ok is false for other schemes and malformed URLs.
func BucketOf(ref string) (bucket, prefix string, ok bool) {
	if !strings.Contains(ref, "://") {
		if ref == "" || strings.ContainsAny(ref, "/?") {
			return "", "", false
		}
		return ref, "", true
	}
	u, err := url.Parse(ref)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return "", "", false
	}
	p := strings.Trim(u.Path, "/")
	if extra := strings.Trim(u.Query().Get("prefix"), "/"); extra != "" {
		p = strings.Trim(p+"/"+extra, "/")
	}
	if p != "" {
		p += "/"
	}
	return u.Host, p, true
}
