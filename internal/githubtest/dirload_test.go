package githubtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestCommitDirGOROOT(t *testing.T) {
	if testing.Short() {
		t.Skip("loads all of $GOROOT/src; skipped with -short")
	}
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	src := filepath.Join(strings.TrimSpace(string(out)), "src")
	s := New(t, Options{})
	r := s.AddRepo("golang", "go")

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	sha := r.CommitDir("main", src)
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)

	s.mu.Lock()
	nblobs := len(s.blobs)
	var blobBytes int64
	for _, b := range s.blobs {
		blobBytes += int64(len(b))
	}
	s.mu.Unlock()
	t.Logf("CommitDir(%s): %v, %d unique blobs (%d MiB), heap +%d MiB", src, took, nblobs, blobBytes>>20, (int64(after.HeapAlloc)-int64(before.HeapAlloc))>>20)
	if took > 60*time.Second {
		t.Errorf("CommitDir took %v", took)
	}

	// The recursive listing has every file the walk saw.
	files := 0
	err = filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (d.Type().IsRegular() || d.Type()&os.ModeSymlink != 0) {
			files++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s)
	start = time.Now()
	tree, _, err := c.Git.GetTree(context.Background(), "golang", "go", sha, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recursive tree of %d entries served in %v", len(tree.Entries), time.Since(start))
	blobs := 0
	for _, e := range tree.Entries {
		if e.GetType() == "blob" {
			blobs++
		}
	}
	if blobs != files || files < 5000 || tree.GetTruncated() {
		t.Errorf("tree has %d blobs (truncated=%v), disk has %d files", blobs, tree.GetTruncated(), files)
	}
	// Spot-check one blob's content through the API.
	want, err := os.ReadFile(filepath.Join(src, "fmt", "print.go"))
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := c.Git.GetBlobRaw(context.Background(), "golang", "go", GitBlobSHA(want))
	if err != nil || string(got) != string(want) {
		t.Errorf("fmt/print.go via blob API: %d bytes, %v", len(got), err)
	}
	noViolations(t, s)
}

func TestTreesAndBlobs(t *testing.T) {
	s := New(t, Options{TreeLimit: 3})
	r := s.AddRepo("acme", "site")
	sha := r.CommitFiles("main", []File{
		{Path: "a.txt", Content: []byte("hello")},
		{Path: "d/b.txt", Content: []byte("x")},
		{Path: "d/e/c.txt", Content: []byte("y")},
		{Path: "d-file", Content: []byte("z")},
		{Path: "mod", Content: []byte("0123456789012345678901234567890123456789"), Mode: "160000"},
	})
	ctx := context.Background()
	c := newClient(t, s)

	tree, _, err := c.Git.GetTree(ctx, "acme", "site", "main", true)
	if err != nil {
		t.Fatal(err)
	}
	if !tree.GetTruncated() || len(tree.Entries) != 3 {
		t.Errorf("TreeLimit 3: %d entries, truncated=%v", len(tree.Entries), tree.GetTruncated())
	}
	s2 := New(t, Options{})
	r2 := s2.AddRepo("acme", "site")
	if got := r2.CommitFiles("main", []File{
		{Path: "a.txt", Content: []byte("hello")},
		{Path: "d/b.txt", Content: []byte("x")},
		{Path: "d/e/c.txt", Content: []byte("y")},
		{Path: "d-file", Content: []byte("z")},
		{Path: "mod", Content: []byte("0123456789012345678901234567890123456789"), Mode: "160000"},
	}); got != sha {
		t.Errorf("same snapshot gave commit %s and %s", sha, got)
	}
	tree, _, err = newClient(t, s2).Git.GetTree(ctx, "acme", "site", sha, true)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range tree.Entries {
		paths = append(paths, e.GetPath()+":"+e.GetType()+":"+e.GetMode())
	}
	// git order: "d-file" sorts before "d/" because '-' < '/'.
	want := "a.txt:blob:100644 d-file:blob:100644 d:tree:040000 d/b.txt:blob:100644 d/e:tree:040000 d/e/c.txt:blob:100644 mod:commit:160000"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("tree order\n got %s\nwant %s", got, want)
	}
	blob, _, err := newClient(t, s2).Git.GetBlob(ctx, "acme", "site", GitBlobSHA([]byte("hello")))
	if err != nil || blob.GetEncoding() != "base64" || blob.GetSize() != 5 {
		t.Fatalf("blob %v %v", blob, err)
	}
	// Non-recursive listing of the root only.
	tree, _, err = newClient(t, s2).Git.GetTree(ctx, "acme", "site", sha, false)
	if err != nil || len(tree.Entries) != 4 {
		t.Errorf("non-recursive: %d entries, %v", len(tree.Entries), err)
	}
	noViolations(t, s)
	noViolations(t, s2)
}

func TestBlobSHAMatchesGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	cmd := exec.Command("git", "hash-object", "--stdin")
	cmd.Stdin = strings.NewReader("hello\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := GitBlobSHA([]byte("hello\n")); got != strings.TrimSpace(string(out)) {
		t.Errorf("GitBlobSHA = %s, git says %s", got, out)
	}
}

func TestContractsDirEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvContractsDir, dir)
	if ContractsDir() != dir {
		t.Fatalf("ContractsDir = %s", ContractsDir())
	}
	if p, ok := OpenAPIPath(); ok || !strings.HasPrefix(p, dir) {
		t.Errorf("OpenAPIPath in empty dir = %s, %v", p, ok)
	}
}
