package archive

import (
	"path"
	"strings"
	"unicode/utf8"
)

// cleanName validates a raw archive name and returns its clean,
// slash-separated, relative form ("." for the root) and whether the raw name
// marks a directory (trailing slash). reason is non-empty when the name is
// refused.
func cleanName(raw string) (clean string, isDir bool, reason string) {
	if reason := badText(raw); reason != "" {
		return "", false, reason
	}
	if raw == "" {
		return "", false, "empty name"
	}
	if strings.HasPrefix(raw, "/") || hasDriveLetter(raw) {
		return "", false, "absolute path"
	}
	for _, c := range strings.Split(raw, "/") {
		if c == ".." {
			return "", false, "path escapes the tree"
		}
	}
	return path.Clean(raw), strings.HasSuffix(raw, "/"), ""
}

// badText reports why s cannot be a name or link target, or "".
func badText(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "name is not valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "name contains a NUL byte"
	case strings.IndexByte(s, '\\') >= 0:
		return "name contains a backslash"
	}
	return ""
}

// hasDriveLetter reports a Windows drive prefix such as "C:".
func hasDriveLetter(s string) bool {
	if len(s) < 2 || s[1] != ':' {
		return false
	}
	c := s[0]
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// escapes reports whether p (already cleaned) leaves the tree.
func escapes(p string) bool {
	return p == ".." || strings.HasPrefix(p, "../")
}

// checkSymlink validates the target of a symlink at tree path at. The check
// is lexical: the target, joined to the link's directory, must stay inside
// the tree. Nothing is ever followed.
func checkSymlink(at, target string) string {
	if reason := badText(target); reason != "" {
		return "link target: " + reason
	}
	if target == "" {
		return "empty link target"
	}
	if strings.HasPrefix(target, "/") || hasDriveLetter(target) {
		return "link target is absolute"
	}
	if escapes(path.Join(path.Dir(at), target)) {
		return "link target escapes the tree"
	}
	return ""
}
