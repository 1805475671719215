package store

import "net/url"

// Redact renders a destination URL for display: credentials and query values
// not known to be harmless are replaced by REDACTED. A string that does not
// parse as a URL is returned as "[unparseable URL]".
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparseable URL]"
	}
	return redactURL(u)
}
