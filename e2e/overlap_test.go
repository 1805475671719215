package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Destinations that overlap (issue 16, items 5 and 6): two jobs or two
// sources that would delete each other's objects, and a destination inside
// its own source, are refused with exit 2 before anything is written.

// overlapConfig writes ghsync.yaml with storage file://./out and the
// jobs' YAML, and returns the directory.
func overlapConfig(t *testing.T, jobs string) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"a/index.html": "a", "b/index.html": "b", "b/more.html": "more",
		"ghsync.yaml": "storage: file://./out\njobs:\n" + jobs,
	})
	return dir
}

// lineOf returns the 1-based line of ghsync.yaml in dir holding s.
func lineOf(t *testing.T, dir, s string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "ghsync.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%q not in ghsync.yaml", s)
	return 0
}

// oneJSONError checks that stdout is one JSON object with a non-empty
// "error" key containing want, and returns the message.
func oneJSONError(t *testing.T, r result, want string) string {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("stdout is not a JSON object (%v): %q\nstderr: %s", err, r.stdout, r.stderr)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value: %q", r.stdout)
	}
	msg, _ := m["error"].(string)
	if !strings.Contains(msg, want) {
		t.Fatalf("JSON error = %q, want it to contain %q", msg, want)
	}
	return msg
}

func TestJobsWithOverlappingDestsRefusedAtLoad(t *testing.T) {
	for _, tc := range []struct{ name, destA, destB string }{
		{"same prefix", "site/", "site/"},
		{"same prefix spelled differently", "site", "file://./out/?prefix=site/"},
		{"nested", "site/", "site/docs/"},
		{"containing", "site/docs/", "site/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := overlapConfig(t, "  - name: a\n    kind: repo\n    source: dir:a\n    dest: "+tc.destA+"\n"+
				"  - name: b\n    kind: repo\n    source: dir:b\n    dest: "+tc.destB+"\n")
			r := exe(t, dir, nil, "run", "a")
			if r.code != 2 {
				t.Fatalf("run a: exit %d, want 2\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			// Both jobs' dest keys are named with file:line:col.
			for _, job := range []string{"a", "b"} {
				line := lineOf(t, dir, "dest: "+map[string]string{"a": tc.destA, "b": tc.destB}[job])
				if job == "b" && tc.destA == tc.destB {
					line += 4 // the second "dest: site/"
				}
				if !regexp.MustCompile(`ghsync\.yaml:` + strconv.Itoa(line) + `:\d+`).MatchString(r.stderr) {
					t.Errorf("stderr does not name ghsync.yaml:%d:COL (job %s's dest):\n%s", line, job, r.stderr)
				}
			}
			if !strings.Contains(r.stderr, `"a"`) || !strings.Contains(r.stderr, `"b"`) {
				t.Errorf("stderr does not name both jobs:\n%s", r.stderr)
			}
			if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
				t.Errorf("out/ was written by a refused configuration")
			}
			oneJSONError(t, exe(t, dir, nil, "run", "a", "--json"), "overlap")
		})
	}
}

func TestJobsWithSiblingDestsAccepted(t *testing.T) {
	dir := overlapConfig(t, "  - name: a\n    kind: repo\n    source: dir:a\n    dest: site/\n"+
		"  - name: b\n    kind: repo\n    source: dir:b\n    dest: site2/\n"+
		"  - name: c\n    kind: repo\n    source: dir:b\n    dest: file://./elsewhere/site/\n")
	for _, job := range []string{"a", "b", "a"} {
		if r := exe(t, dir, nil, "run", job); r.code != 0 {
			t.Fatalf("run %s: exit %d\nstdout: %s\nstderr: %s", job, r.code, r.stdout, r.stderr)
		}
	}
	for _, f := range []string{"out/site/index.html", "out/site2/index.html", "out/site2/more.html"} {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestAdHocSyncOfAnotherSourceRefusedUntilTakeOver(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"one/a.txt": "a", "two/b.txt": "b"})
	if r := exe(t, dir, nil, "sync", "dir:one", "file://./out/site"); r.code != 0 {
		t.Fatalf("first sync: exit %d\n%s", r.code, r.stderr)
	}
	r := exe(t, dir, nil, "sync", "dir:two", "file://./out/site")
	if r.code != 2 {
		t.Fatalf("sync of another source: exit %d, want 2\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	one, _ := filepath.EvalSymlinks(filepath.Join(dir, "one"))
	for _, want := range []string{one, "--take-over"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not name %q:\n%s", want, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out/site/a.txt")); err != nil {
		t.Errorf("the refused run touched the owner's objects: %v", err)
	}
	oneJSONError(t, exe(t, dir, nil, "sync", "dir:two", "file://./out/site", "--json"), one)

	// The owner itself still syncs.
	if r := exe(t, dir, nil, "sync", "dir:one", "file://./out/site"); r.code != 0 {
		t.Fatalf("owner's sync: exit %d\n%s", r.code, r.stderr)
	}
	if r := exe(t, dir, nil, "sync", "dir:two", "file://./out/site", "--take-over"); r.code != 0 {
		t.Fatalf("sync --take-over: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out/site/a.txt")); err == nil {
		t.Errorf("after the take-over the old owner's a.txt is still there")
	}
	if _, err := os.Stat(filepath.Join(dir, "out/site/b.txt")); err != nil {
		t.Errorf("after the take-over: %v", err)
	}
	// Now the old owner is the stranger.
	if r := exe(t, dir, nil, "sync", "dir:one", "file://./out/site"); r.code != 2 {
		t.Fatalf("old owner after take-over: exit %d, want 2\n%s", r.code, r.stderr)
	}
}

func TestDestInsideFolderSourceRefused(t *testing.T) {
	for _, args := range [][]string{
		{"sync", ".", "file://./out"},
		{"sync", ".", "file://./out?metadata=skip"},
		{"sync", "dir:.", "file://.?prefix=out"},
		{"sync", "dir:src/..", "file://./out"},
		{"sync", "dir:out/..", "file://./"},
		{"sync", "dir:src", "file://."}, // source inside the destination
		{"sync", "dir:link", "file://./src/out"},
	} {
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"src/a.txt": "a", "b.txt": "b"})
		if err := os.Symlink("src", filepath.Join(dir, "link")); err != nil {
			t.Fatal(err)
		}
		r := exe(t, dir, nil, args...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
			continue
		}
		if !strings.Contains(r.stderr, "inside") {
			t.Errorf("%v: unclear error:\n%s", args, r.stderr)
		}
		oneJSONError(t, exe(t, dir, nil, append(args, "--json")...), "inside")
	}
	// A sibling is fine.
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"src/a.txt": "a"})
	for i := 0; i < 2; i++ {
		if r := exe(t, dir, nil, "sync", "dir:src", "file://./out"); r.code != 0 {
			t.Fatalf("sibling destination, run %d: exit %d\n%s", i+1, r.code, r.stderr)
		}
	}
}

// A checkout is mirrored from HEAD, so a destination inside its working
// tree is fine (the first thing users run), unless git tracks it.
func TestDestInsideCheckout(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a.txt": "a", "public/keep.txt": "tracked"})
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "T", Email: "t@example.com", When: time.Unix(1_700_000_000, 0)}
	if _, err := wt.Commit("first", &git.CommitOptions{Author: sig}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"sync", ".", "file://./public", "--delete", "all"}, // tracked in HEAD
		{"sync", ".", "file://./.git/out"},
		{"sync", ".", "file://."},
	} {
		r := exe(t, dir, nil, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "inside") {
			t.Errorf("%v: exit %d, want 2 with a clear error\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "public/keep.txt")); err != nil || string(b) != "tracked" {
		t.Errorf("tracked public/keep.txt: %q, %v", b, err)
	}
	for i := 0; i < 2; i++ {
		r := exe(t, dir, nil, "sync", ".", "file://./out")
		if r.code != 0 {
			t.Fatalf("untracked destination, run %d: exit %d\n%s", i+1, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out/out")); err == nil {
		t.Errorf("out/ was mirrored into out/out")
	}
}

// A configured job pointed at another source takes the prefix over only
// with `ghsync run JOB --take-over`.
func TestRunTakeOver(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"one/a.txt": "a", "two/b.txt": "b"})
	config := func(src string) {
		writeTree(t, dir, map[string]string{"ghsync.yaml": "jobs:\n  - name: site\n    kind: repo\n    source: dir:" + src + "\n    dest: site/\n"})
	}
	config("one")
	if r := exe(t, dir, nil, "run", "site"); r.code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	config("two")
	r := exe(t, dir, nil, "run", "site", "--json")
	if r.code != 2 {
		t.Fatalf("run of the changed source: exit %d, want 2\n%s", r.code, r.stderr)
	}
	oneJSONError(t, r, "--take-over")
	if r := exe(t, dir, nil, "run", "site", "--take-over", "--via-queue"); r.code != 2 {
		t.Errorf("--take-over --via-queue: exit %d, want 2", r.code)
	}
	if r := exe(t, dir, nil, "run", "site", "--take-over"); r.code != 0 {
		t.Fatalf("run --take-over: exit %d\n%s", r.code, r.stderr)
	}
	if r := exe(t, dir, nil, "run", "site"); r.code != 0 {
		t.Fatalf("run after the take-over: exit %d\n%s", r.code, r.stderr)
	}
}
