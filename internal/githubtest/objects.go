package githubtest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strings"
)

// File is one path of a commit snapshot.
type File struct {
	// Path is slash-separated and repo-relative, e.g. "dir/b.txt".
	Path string
	// Content is the file bytes; for a symlink the link target; for a
	// submodule the 40-hex commit SHA it points to.
	Content []byte
	// Mode is the git mode: "100644" (default when empty), "100755",
	// "120000" (symlink) or "160000" (submodule).
	Mode string
}

// GitBlobSHA returns the git blob SHA-1 of content ("blob <len>\x00" + content).
func GitBlobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

func gitObjectSHA(kind string, body []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", kind, len(body))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// treeEntry is one entry of a git tree object.
type treeEntry struct {
	name string
	mode string // "100644", "100755", "120000", "160000", "40000"
	sha  string
	size int64 // blobs only
}

func (e treeEntry) kind() string {
	switch e.mode {
	case "40000":
		return "tree"
	case "160000":
		return "commit"
	default:
		return "blob"
	}
}

// gitTree is a git tree object.
type gitTree struct {
	sha     string
	entries []treeEntry // git order
}

// gitCommit is a git commit object.
type gitCommit struct {
	sha     string
	tree    string
	parents []string
	message string
	seq     int64 // creation order, gives a deterministic date
}

// flatFile is a validated File with its blob SHA.
type flatFile struct {
	path string
	mode string
	sha  string
	size int64
}

func normaliseMode(m string) (string, error) {
	switch m {
	case "", "100644", "644":
		return "100644", nil
	case "100755", "755":
		return "100755", nil
	case "120000", "160000":
		return m, nil
	default:
		return "", fmt.Errorf("unsupported git mode %q", m)
	}
}

func cleanRepoPath(p string) (string, error) {
	c := path.Clean(strings.TrimPrefix(p, "/"))
	if c == "." || c == ".." || strings.HasPrefix(c, "../") || c != strings.TrimPrefix(p, "/") {
		return "", fmt.Errorf("invalid repo path %q", p)
	}
	return c, nil
}

// buildTrees turns a flat file list into git tree objects, calling put for
// every tree, and returns the root tree SHA. Files must have unique paths
// and no file may also be a directory prefix of another.
func buildTrees(files []flatFile, put func(*gitTree)) (string, error) {
	type dir struct {
		files map[string]flatFile
		dirs  map[string]*dir
	}
	newDir := func() *dir { return &dir{files: map[string]flatFile{}, dirs: map[string]*dir{}} }
	root := newDir()
	for _, f := range files {
		parts := strings.Split(f.path, "/")
		d := root
		for _, p := range parts[:len(parts)-1] {
			if _, clash := d.files[p]; clash {
				return "", fmt.Errorf("path %q: %q is a file", f.path, p)
			}
			c := d.dirs[p]
			if c == nil {
				c = newDir()
				d.dirs[p] = c
			}
			d = c
		}
		name := parts[len(parts)-1]
		if _, dup := d.files[name]; dup {
			return "", fmt.Errorf("duplicate path %q", f.path)
		}
		if _, clash := d.dirs[name]; clash {
			return "", fmt.Errorf("path %q is also a directory", f.path)
		}
		d.files[name] = f
	}
	var write func(d *dir) string
	write = func(d *dir) string {
		entries := make([]treeEntry, 0, len(d.files)+len(d.dirs))
		for name, f := range d.files {
			entries = append(entries, treeEntry{name: name, mode: f.mode, sha: f.sha, size: f.size})
		}
		for name, sub := range d.dirs {
			entries = append(entries, treeEntry{name: name, mode: "40000", sha: write(sub)})
		}
		// git sorts tree entries by name, comparing directories as "name/".
		key := func(e treeEntry) string {
			if e.mode == "40000" {
				return e.name + "/"
			}
			return e.name
		}
		sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
		var body []byte
		for _, e := range entries {
			raw, _ := hex.DecodeString(e.sha)
			body = append(body, e.mode...)
			body = append(body, ' ')
			body = append(body, e.name...)
			body = append(body, 0)
			body = append(body, raw...)
		}
		t := &gitTree{sha: gitObjectSHA("tree", body), entries: entries}
		put(t)
		return t.sha
	}
	return write(root), nil
}

// commitBody renders a git commit object so its SHA is what git would compute.
func commitBody(c *gitCommit) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "tree %s\n", c.tree)
	for _, p := range c.parents {
		fmt.Fprintf(&b, "parent %s\n", p)
	}
	ts := commitTime(c.seq).Unix()
	fmt.Fprintf(&b, "author %s <%s> %d +0000\n", fakeAuthorName, fakeAuthorEmail, ts)
	fmt.Fprintf(&b, "committer %s <%s> %d +0000\n", fakeAuthorName, fakeAuthorEmail, ts)
	fmt.Fprintf(&b, "\n%s\n", c.message)
	return []byte(b.String())
}

const (
	fakeAuthorName  = "Octo Cat"
	fakeAuthorEmail = "octocat@users.noreply.github.com"
)
