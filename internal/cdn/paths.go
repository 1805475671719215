package cdn

import (
	"net/url"
	"path"
	"slices"
	"strings"
)

// Paths turns object keys (relative to the job's destination) into the
// sorted, de-duplicated CDN paths to invalidate: prefix + "/" + key,
// URL-escaped as a browser requests it ("*" too, so that no key becomes a
// wildcard), and for every index.html also its directory path
// ("docs/index.html" → "/docs/index.html" and "/docs/"). prefix is
// Settings.PathPrefix.
func Paths(keys []string, prefix string) []string {
	prefix = NormPrefix(prefix)
	seen := make(map[string]bool, len(keys))
	out := make([]string, 0, len(keys))
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, k := range keys {
		add(escape(prefix + "/" + k))
		if path.Base(k) == "index.html" {
			add(escape(prefix + "/" + strings.TrimSuffix(k, "index.html")))
		}
	}
	slices.Sort(out)
	return out
}

// NormPrefix returns a path prefix as "/a/b" (no trailing slash) or "".
func NormPrefix(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return "/" + p
}

func escape(p string) string {
	return strings.ReplaceAll((&url.URL{Path: p}).EscapedPath(), "*", "%2A")
}

// IsWildcard reports whether a CDN path is a wildcard ("/docs/*").
func IsWildcard(p string) bool { return strings.HasSuffix(p, "*") }

// Collapse returns paths unchanged when there are at most max exact paths
// (max ≤ 0: no limit) and at most maxWild wildcards; otherwise each
// top-level directory under prefix with a changed path becomes one
// wildcard ("/site/docs/*") and the files directly under prefix stay
// exact; if that is still too many, the single wildcard prefix + "/*".
// Wildcards already in paths (owed by an earlier run) are kept.
func Collapse(paths []string, prefix string, max, maxWild int) []string {
	exact, wild := split(paths)
	if (max <= 0 || len(exact) <= max) && len(wild) <= maxWild {
		return paths
	}
	prefix = escape(NormPrefix(prefix))
	all := prefix + "/*"
	set := map[string]bool{}
	var top []string
	for _, p := range paths {
		rest, ok := strings.CutPrefix(p, prefix+"/")
		if !ok || rest == "*" {
			return []string{all} // outside the prefix (an owed path from other settings), or everything
		}
		dir, _, nested := strings.Cut(rest, "/")
		w := p
		if nested {
			w = prefix + "/" + dir + "/*"
		}
		if !set[w] {
			set[w] = true
			top = append(top, w)
		}
	}
	slices.Sort(top)
	exact, wild = split(top)
	if (max > 0 && len(exact) > max) || len(wild) > maxWild || len(top) > max && max > 0 {
		return []string{all}
	}
	return top
}

func split(paths []string) (exact, wild []string) {
	for _, p := range paths {
		if IsWildcard(p) {
			wild = append(wild, p)
		} else {
			exact = append(exact, p)
		}
	}
	return exact, wild
}

// Batch cuts paths into batches of at most n.
func Batch(paths []string, n int) [][]string {
	var out [][]string
	for len(paths) > n {
		out = append(out, paths[:n:n])
		paths = paths[n:]
	}
	if len(paths) > 0 {
		out = append(out, paths)
	}
	return out
}
