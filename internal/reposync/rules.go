package reposync

import (
	"fmt"
	"mime"
	"path"
	"regexp"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Filter decides which repo-relative paths are synced: a path is synced if
// it matches some include (all paths when there are none) and no exclude.
type Filter struct {
	Include []*regexp.Regexp
	Exclude []*regexp.Regexp
}

// Match reports whether p is synced.
func (f Filter) Match(p string) bool {
	if len(f.Include) > 0 {
		ok := false
		for _, re := range f.Include {
			if re.MatchString(p) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, re := range f.Exclude {
		if re.MatchString(p) {
			return false
		}
	}
	return true
}

// GlobRule maps a doublestar glob (matched against the repo-relative path;
// a pattern without "/" also matches the base name) to a value.
type GlobRule struct {
	Glob  string
	Value string
}

// ValidateGlobs returns an error naming the first invalid pattern.
func ValidateGlobs(rules []GlobRule) error {
	for _, r := range rules {
		if !doublestar.ValidatePattern(r.Glob) {
			return fmt.Errorf("invalid glob %q", r.Glob)
		}
	}
	return nil
}

// firstMatch returns the value of the first rule matching p.
func firstMatch(rules []GlobRule, p string) (string, bool) {
	base := path.Base(p)
	for _, r := range rules {
		if ok, _ := doublestar.Match(r.Glob, p); ok {
			return r.Value, true
		}
		if !strings.Contains(r.Glob, "/") {
			if ok, _ := doublestar.Match(r.Glob, base); ok {
				return r.Value, true
			}
		}
	}
	return "", false
}

// ContentType returns the content type for p: an override rule first, then
// the built-in table (extension matched case-insensitively), then the
// platform's MIME table, then application/octet-stream.
func ContentType(overrides []GlobRule, p string) string {
	if v, ok := firstMatch(overrides, p); ok {
		return v
	}
	ext := strings.ToLower(path.Ext(p))
	if t, ok := mimeTable[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// mimeTable is the built-in extension table, so content types do not depend
// on the host's /etc/mime.types. Keys are lower case.
var mimeTable = map[string]string{
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
	".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
	".mjs": "text/javascript; charset=utf-8", ".json": "application/json",
	".map": "application/json", ".xml": "application/xml", ".txt": "text/plain; charset=utf-8",
	".md": "text/markdown; charset=utf-8", ".csv": "text/csv; charset=utf-8",
	".yaml": "application/yaml", ".yml": "application/yaml", ".toml": "application/toml",
	".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
	".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif", ".ico": "image/vnd.microsoft.icon",
	".tif": "image/tiff", ".tiff": "image/tiff", ".bmp": "image/bmp",
	".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf",
	".pdf": "application/pdf", ".zip": "application/zip", ".gz": "application/gzip",
	".tgz": "application/gzip", ".tar": "application/x-tar", ".wasm": "application/wasm",
	".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg", ".wav": "audio/wav",
	".go": "text/plain; charset=utf-8", ".sh": "text/x-shellscript; charset=utf-8",
	".py": "text/x-python; charset=utf-8", ".rs": "text/plain; charset=utf-8",
	".c": "text/plain; charset=utf-8", ".h": "text/plain; charset=utf-8", ".s": "text/plain; charset=utf-8",
	".webmanifest": "application/manifest+json", ".rss": "application/rss+xml",
	".atom": "application/atom+xml", ".ics": "text/calendar; charset=utf-8",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
