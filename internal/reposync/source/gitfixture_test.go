package source

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// gitFixture is a repository built with go-git in a temporary folder.
type gitFixture struct {
	dir    string
	repo   *git.Repository
	first  plumbing.Hash // commit tagged v1 (annotated) and v1-light
	second plumbing.Hash // HEAD of master
}

func writeFixtureFile(t *testing.T, dir, rel, content string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func newGitFixture(t *testing.T) *gitFixture {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 200_000)
	for i := range big {
		big[i] = byte(i * 7)
	}
	writeFixtureFile(t, dir, "README.md", "hello\n", 0o644)
	writeFixtureFile(t, dir, "bin/run", "#!/bin/sh\necho run\n", 0o755)
	writeFixtureFile(t, dir, "docs/guide/intro.md", "# Intro\n", 0o644)
	writeFixtureFile(t, dir, "empty", "", 0o644)
	writeFixtureFile(t, dir, "a.b/c", "dot dir\n", 0o644)
	writeFixtureFile(t, dir, "a/b", "slash dir\n", 0o644)
	writeFixtureFile(t, dir, "data/big.bin", string(big), 0o644)
	if err := os.Symlink("../README.md", filepath.Join(dir, "docs", "readme-link")); err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	first := fixtureCommit(t, repo, wt, "first")
	if _, err := repo.CreateTag("v1", first, &git.CreateTagOptions{Tagger: fixtureSig(), Message: "v1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.CreateTag("v1-light", first, nil); err != nil {
		t.Fatal(err)
	}
	writeFixtureFile(t, dir, "README.md", "hello again\n", 0o644)
	writeFixtureFile(t, dir, "NEW.txt", "new\n", 0o644)
	second := fixtureCommit(t, repo, wt, "second")
	return &gitFixture{dir: dir, repo: repo, first: first, second: second}
}

func fixtureSig() *object.Signature {
	return &object.Signature{Name: "Test", Email: "test@example.com", When: time.Unix(1_700_000_000, 0)}
}

func fixtureCommit(t *testing.T, repo *git.Repository, wt *git.Worktree, msg string) plumbing.Hash {
	t.Helper()
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: fixtureSig()})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// fetchAll fetches entries with the given concurrency, checks every
// content against its listed blob SHA, and returns the contents by path and
// the highest number of fn calls that ran at once.
func fetchAll(t *testing.T, s Source, entries []Entry, concurrency int) (map[string]string, int) {
	t.Helper()
	var mu sync.Mutex
	got := map[string]string{}
	var running, peak atomic.Int32
	err := s.Fetch(context.Background(), entries, concurrency, func(ctx context.Context, e Entry, r io.Reader) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond) // let calls overlap
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if e.Mode != ModeSubmodule && BlobOf(b) != e.Blob {
			t.Errorf("%s: content blob sha %s, listed %s", e.Path, BlobSHABytes(b), e.Blob)
		}
		mu.Lock()
		got[e.Path] = string(b)
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return got, int(peak.Load())
}
