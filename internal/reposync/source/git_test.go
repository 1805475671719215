package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/google/go-cmp/cmp"
)

func mustList(t *testing.T, s Source) []Entry {
	t.Helper()
	entries, err := s.List(context.Background())
	if err != nil {
		t.Fatalf("%s: List: %v", s, err)
	}
	return entries
}

func TestGitCheckoutListsHEADNotWorktree(t *testing.T) {
	fx := newGitFixture(t)
	// Dirty the working tree: the source must ignore it.
	writeFixtureFile(t, fx.dir, "README.md", "uncommitted\n", 0o644)
	writeFixtureFile(t, fx.dir, "untracked.txt", "x", 0o644)

	g, err := NewGitCheckout(fx.dir, GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := g.Resolve(context.Background(), Hint{})
	if err != nil {
		t.Fatal(err)
	}
	if rev.Commit != fx.second.String() || rev.NotModified || rev.Ref != "refs/heads/master" {
		t.Errorf("Resolve = %+v, want commit %s on refs/heads/master", rev, fx.second)
	}
	entries := mustList(t, g)
	var paths []string
	byPath := map[string]Entry{}
	for _, e := range entries {
		paths = append(paths, e.Path)
		byPath[e.Path] = e
	}
	want := []string{"NEW.txt", "README.md", "a.b/c", "a/b", "bin/run", "data/big.bin", "docs/guide/intro.md", "docs/readme-link", "empty"}
	if d := cmp.Diff(want, paths); d != "" {
		t.Errorf("paths (-want +got):\n%s", d)
	}
	if e := byPath["README.md"]; e.Blob != BlobOf([]byte("hello again\n")) || e.Size != 12 || e.Mode != ModeFile {
		t.Errorf("README.md = %+v, want the committed content", e)
	}
	if e := byPath["bin/run"]; e.Mode != ModeExec {
		t.Errorf("bin/run mode = %v, want exec", e.Mode)
	}
	if e := byPath["docs/readme-link"]; e.Mode != ModeSymlink || e.Target != "../README.md" || e.Size != 12 ||
		e.Blob != BlobOf([]byte("../README.md")) {
		t.Errorf("symlink = %+v", e)
	}
	if e := byPath["data/big.bin"]; e.Size != 200_000 {
		t.Errorf("big.bin size = %d", e.Size)
	}
	got, peak := fetchAll(t, g, entries, 3)
	if got["README.md"] != "hello again\n" || got["docs/readme-link"] != "../README.md" || len(got["data/big.bin"]) != 200_000 {
		t.Errorf("fetched contents wrong: README=%q link=%q", got["README.md"], got["docs/readme-link"])
	}
	if peak > 3 || peak < 2 {
		t.Errorf("peak concurrency %d, want 2..3", peak)
	}

	// Unchanged HEAD: NotModified.
	rev2, err := g.Resolve(context.Background(), Hint{Commit: rev.Commit})
	if err != nil || !rev2.NotModified || rev2.Commit != rev.Commit {
		t.Errorf("Resolve with hint = %+v, %v; want NotModified", rev2, err)
	}
}

func TestGitCheckoutFromSubdirectory(t *testing.T) {
	fx := newGitFixture(t)
	g, err := NewGitCheckout(filepath.Join(fx.dir, "docs", "guide"), GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := g.Resolve(context.Background(), Hint{})
	if err != nil || rev.Commit != fx.second.String() {
		t.Fatalf("Resolve = %+v, %v", rev, err)
	}
	if n := len(mustList(t, g)); n != 9 {
		t.Errorf("listed %d entries from a subdirectory, want the whole tree (9)", n)
	}
}

func TestGitCheckoutNotARepo(t *testing.T) {
	_, err := NewGitCheckout(t.TempDir(), GitOptions{})
	if !errors.Is(err, git.ErrRepositoryNotExists) {
		t.Errorf("err = %v, want ErrRepositoryNotExists", err)
	}
}

func TestGitListBeforeResolve(t *testing.T) {
	fx := newGitFixture(t)
	g, err := NewGitCheckout(fx.dir, GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.List(context.Background()); err == nil {
		t.Error("List before Resolve succeeded")
	}
}

// TestGitAndDirAgree: the checked-out files listed by Dir give the same
// entries (paths, modes, sizes, blob SHAs, targets) as the commit tree.
func TestGitAndDirAgree(t *testing.T) {
	fx := newGitFixture(t)
	g := resolvedCheckout(t, fx.dir)
	d := NewDir(fx.dir, DirOptions{})
	if _, err := d.Resolve(context.Background(), Hint{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(mustList(t, g), mustList(t, d)); diff != "" {
		t.Errorf("git vs dir listing (-git +dir):\n%s", diff)
	}
}

func TestGitRemoteFile(t *testing.T) {
	fx := newGitFixture(t)
	ck, err := NewGitCheckout(fx.dir, GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ck.Resolve(context.Background(), Hint{}); err != nil {
		t.Fatal(err)
	}
	want := mustList(t, ck)

	g, err := NewGitRemote("git+file://"+fx.dir, "", GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(g.String(), "git+file://") {
		t.Errorf("String() = %q", g.String())
	}
	rev, err := g.Resolve(context.Background(), Hint{})
	if err != nil {
		t.Fatal(err)
	}
	if rev.Commit != fx.second.String() || rev.Ref != "refs/heads/master" || rev.NotModified {
		t.Errorf("Resolve = %+v, want %s on refs/heads/master", rev, fx.second)
	}
	got := mustList(t, g)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("remote vs checkout listing (-checkout +remote):\n%s", d)
	}
	contents, _ := fetchAll(t, g, got, 4)
	if contents["README.md"] != "hello again\n" {
		t.Errorf("README.md = %q", contents["README.md"])
	}

	// Unchanged remote: NotModified and no clone.
	g2, err := NewGitRemote("git+file://"+fx.dir, "master", GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rev2, err := g2.Resolve(context.Background(), Hint{Commit: fx.second.String()})
	if err != nil || !rev2.NotModified || rev2.Commit != fx.second.String() {
		t.Fatalf("Resolve with hint = %+v, %v", rev2, err)
	}
	if g2.repo != nil {
		t.Error("NotModified resolve cloned the remote")
	}
	// List after NotModified clones lazily and still works.
	if d := cmp.Diff(want, mustList(t, g2)); d != "" {
		t.Errorf("lazy listing differs:\n%s", d)
	}
}

func TestGitRemoteTags(t *testing.T) {
	fx := newGitFixture(t)
	for _, ref := range []string{"v1", "v1-light", "refs/tags/v1"} {
		g, err := NewGitRemote("file://"+fx.dir, ref, GitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rev, err := g.Resolve(context.Background(), Hint{})
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if rev.Commit != fx.first.String() {
			t.Errorf("%s: commit %s, want %s", ref, rev.Commit, fx.first)
		}
		entries := mustList(t, g)
		for _, e := range entries {
			if e.Path == "NEW.txt" {
				t.Errorf("%s: lists NEW.txt from the later commit", ref)
			}
			if e.Path == "README.md" && e.Blob != BlobOf([]byte("hello\n")) {
				t.Errorf("%s: README.md is not the tagged version", ref)
			}
		}
		// The unchanged tag answers NotModified from the ref listing.
		rev2, err := g.Resolve(context.Background(), Hint{Commit: fx.first.String()})
		if err != nil || !rev2.NotModified {
			t.Errorf("%s: Resolve with hint = %+v, %v", ref, rev2, err)
		}
	}
}

func TestGitRemoteErrors(t *testing.T) {
	fx := newGitFixture(t)
	g, err := NewGitRemote("git+file://"+fx.dir, "no-such-branch", GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Resolve(context.Background(), Hint{}); err == nil || !strings.Contains(err.Error(), "no-such-branch") {
		t.Errorf("missing ref: err = %v", err)
	}
	if _, err := NewGitRemote("git+ftp://example.com/x.git", "", GitOptions{}); err == nil {
		t.Error("ftp scheme accepted")
	}
	g, err = NewGitRemote("git+https://user:s3cret@example.com/x.git", "main", GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(g.String(), "s3cret") {
		t.Errorf("String() leaks the password: %q", g.String())
	}
	missing := filepath.Join(t.TempDir(), "nope")
	g, err = NewGitRemote("git+file://"+missing, "", GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Resolve(context.Background(), Hint{}); err == nil {
		t.Error("missing remote resolved")
	}
}

// TestGitCheckoutThisRepository runs the checkout source on the repository
// holding this package, when there is one (a source tarball has none).
func TestGitCheckoutThisRepository(t *testing.T) {
	g, err := NewGitCheckout(".", GitOptions{})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		t.Skip("not inside a git checkout")
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Resolve(context.Background(), Hint{}); err != nil {
		t.Fatal(err)
	}
	entries := mustList(t, g)
	var pick []Entry
	for _, e := range entries {
		if e.Path == "go.mod" || e.Path == "internal/reposync/source/source.go" {
			pick = append(pick, e)
		}
	}
	if len(pick) != 2 {
		t.Fatalf("found %d of go.mod and source.go in %d entries", len(pick), len(entries))
	}
	if _, err := os.Stat("source.go"); err != nil {
		t.Fatal(err)
	}
	got, _ := fetchAll(t, g, pick, 2) // verifies blob SHAs while reading
	if !strings.Contains(got["go.mod"], "module github.com/ghsync/ghsync") {
		t.Errorf("go.mod content: %.60q", got["go.mod"])
	}
}

// With the last run's record (UseKnown), List takes the size of a blob
// recorded at the same path with the same SHA from the record instead of
// looking the object up (issue 20: that lookup was two thirds of a
// 100,000-file listing); a path whose blob changed, or that the record does
// not know, is looked up. The record's size is marked (one more than the
// real one) to see which was used.
func TestGitListTakesKnownBlobSizes(t *testing.T) {
	fx := newGitFixture(t)
	g := resolvedCheckout(t, fx.dir)
	asked := map[string]int{}
	g.UseKnown(func(path string) (Known, bool) {
		asked[path]++
		switch path {
		case "docs/guide/intro.md": // the same blob: its record is used
			return Known{Size: 9, Blob: BlobSHABytes([]byte("# Intro\n"))}, true
		case "README.md": // an older blob: looked up
			return Known{Size: 7, Blob: BlobSHABytes([]byte("hello\n"))}, true
		}
		return Known{}, false
	})
	byPath := map[string]Entry{}
	for _, e := range mustList(t, g) {
		byPath[e.Path] = e
	}
	if got := byPath["docs/guide/intro.md"].Size; got != 9 {
		t.Errorf("intro.md size %d; want 9, the record's (the blob is the one it names)", got)
	}
	if got := byPath["README.md"].Size; got != 12 {
		t.Errorf("README.md size %d; want 12 from the repository (the record names another blob)", got)
	}
	if got := byPath["data/big.bin"].Size; got != 200_000 {
		t.Errorf("big.bin size %d; want 200000 from the repository", got)
	}
	if asked["docs/readme-link"] != 0 {
		t.Errorf("a symlink's size was asked of the record: %v", asked)
	}
}

// resolvedCheckout opens the checkout at dir and resolves its HEAD.
func resolvedCheckout(t *testing.T, dir string) *Git {
	t.Helper()
	g, err := NewGitCheckout(dir, GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Resolve(context.Background(), Hint{}); err != nil {
		t.Fatal(err)
	}
	return g
}
