package reposync

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A delta run (git checkout, sharded manifest) that overwrites a file and
// then fails on another (the store cannot write it: on file:// its name is
// a non-empty directory) must leave a manifest claiming nothing untrue: not
// the old content of the file it overwrote, not the file it deleted. When
// upstream then goes back to the first commit, the next run must put the
// old content back rather than call it unchanged (issue 16 item 2 on the
// delta path), and the store must converge.
func TestDeltaRunFailingAfterOverwriteLeavesNoFalseClaim(t *testing.T) {
	files := manyFiles(200)
	r := newDeltaRepo(t, files)
	dir := t.TempDir()
	url := "file://" + dir + "?prefix=www/"
	if _, err := r.tryRun(t, url, nil); err != nil {
		t.Fatal(err)
	}
	tree := treeState(files)
	tree2 := r.change(t, tree, map[string]string{"d00/f0001.txt": "v2 of 1", "d00/f0002.txt": "v2 of 2"}, []string{"d00/f0003.txt"}, nil)
	// d00/f0002.txt cannot be written: its name is a non-empty directory.
	blocked := filepath.Join(dir, "www", "d00", "f0002.txt")
	if err := os.Remove(blocked); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(blocked, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := r.tryRun(t, url, nil)
	if err == nil || !strings.Contains(err.Error(), "d00/f0002.txt") {
		t.Fatalf("run 2: %v, want the store's failure on d00/f0002.txt", err)
	}
	mustDelta(t, s, "run 2")
	if body, _ := os.ReadFile(filepath.Join(dir, "www", "d00", "f0001.txt")); string(body) != tree2["d00/f0001.txt"] {
		t.Fatalf("run 2 failed before overwriting d00/f0001.txt (%q): the test proves nothing", body)
	}
	checkManifestHonest(t, url)
	if err := os.RemoveAll(blocked); err != nil {
		t.Fatal(err)
	}
	// Upstream goes back to commit 1.
	tree3 := r.change(t, tree2, map[string]string{"d00/f0001.txt": tree["d00/f0001.txt"], "d00/f0002.txt": tree["d00/f0002.txt"],
		"d00/f0003.txt": tree["d00/f0003.txt"]}, nil, nil)
	if s, err := r.tryRun(t, url, nil); err != nil || s.UpToDate {
		t.Fatalf("run 3: %v, %+v", err, s)
	}
	checkConverged(t, url, tree3)
	if s, err := r.tryRun(t, url, nil); err != nil || !s.UpToDate {
		t.Fatalf("run 4: %v, %+v; want up to date", err, s)
	}
}

// A file replaced by a folder of the same name (and back) on the delta
// path, into file:// where a key cannot be both a file and a folder.
func TestDeltaFileBecomesFolder(t *testing.T) {
	files := manyFiles(200)
	r := newDeltaRepo(t, files)
	url := "file://" + t.TempDir() + "/"
	if _, err := r.tryRun(t, url, nil); err != nil {
		t.Fatal(err)
	}
	tree := treeState(files)
	// Two commits (the checkout cannot hold both at once); the run diffs from the first.
	tree2 := r.change(t, tree, nil, []string{"d00/f0001.txt"}, nil)
	tree2 = r.change(t, tree2, map[string]string{"d00/f0001.txt/inside.txt": "now a folder"}, nil, nil)
	if _, err := r.tryRun(t, url, nil); err != nil {
		if errors.Is(err, ErrConcurrentRun) {
			t.Fatal(err)
		}
		t.Logf("run 2: %v", err)
		checkManifestHonest(t, url)
		if _, err := r.tryRun(t, url, nil); err != nil {
			t.Fatalf("run 3 (after run 2 failed) does not converge: %v", err)
		}
	}
	checkConverged(t, url, tree2)
}
