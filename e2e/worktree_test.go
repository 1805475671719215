package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// `ghsync sync .` mirrors the checkout's HEAD commit; when the working tree
// has changes it says which are not included, and a clean tree says
// nothing about it.
func TestSyncCheckoutSaysWhatItDoesNotMirror(t *testing.T) {
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string]string{"a.txt": "A", "b.txt": "B"})
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add("."); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "t", Email: "t@example.org", When: time.Unix(1700000000, 0)}
	h, err := wt.Commit("first", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}
	out := "file://" + filepath.ToSlash(t.TempDir()) + "/"
	clean := exe(t, dir, nil, "sync", ".", out)
	if clean.code != 0 || strings.Contains(clean.stderr, "not included") {
		t.Fatalf("clean tree: exit %d\n%s%s", clean.code, clean.stdout, clean.stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string]string{"new1.txt": "1", "sub/new2.txt": "2"})
	r := exe(t, dir, nil, "sync", ".", out)
	want := regexp.MustCompile(`mirroring HEAD ` + h.String()[:7] + `; 1 modified, 2 untracked files are not included`)
	if r.code != 0 || !want.MatchString(r.stderr) {
		t.Errorf("dirty tree: exit %d\nstderr %s\nwant %s", r.code, r.stderr, want)
	}
}
