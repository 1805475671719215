package storetest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/reposync"
	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

func testRepoSyncRuns(t *testing.T, be Backend) {
	t.Run("ThreeRuns", func(t *testing.T) { RepoSyncThreeRuns(t, be.URL(t, "mirror/")) })
	t.Run("OverlappingRuns", func(t *testing.T) { RepoSyncOverlap(t, be.URL(t, "mirror/")) })
}

// repoFiles are the source files of the repo-sync cases: awkward names
// included, except those the destination's scheme cannot store.
func repoFiles(b *store.Bucket) map[string]string {
	files := map[string]string{
		"README.md":                "# hello\n",
		"docs/with space.md":       "spaces\n",
		"docs/100% sure+plus.txt":  "percent and plus\n",
		"docs/héllo-世界.md":         "unicode\n",
		"src/has__0x41.txt":        "escape-like\n",
		"src/a__0x41__b.txt":       "escape form\n",
		"config.attrs":             "attrs suffix\n",
		`src/back\slash.txt`:       "backslash\n",
		"deep/a/b/c/d/e/f/g/h.txt": "deep\n",
	}
	for k := range files {
		if err := b.CheckKey(k); err != nil {
			delete(files, k) // this scheme cannot hold the name (see store.Capabilities)
		}
	}
	return files
}

func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// syncOnce runs repo sync from dir into url with a fresh Bucket (so its
// Stats count this run only) and returns the summary, the run's error and
// the number of objects written.
func syncOnce(t testing.TB, dir, url string, src source.Source, mods ...func(*reposync.Options)) (*reposync.Summary, int, error) {
	t.Helper()
	b := Open(t, url, store.Options{Concurrency: 4})
	if src == nil {
		src = source.NewDir(dir, source.DirOptions{})
	}
	o := reposync.Options{Job: "conformance", Source: src, Bucket: b}
	for _, m := range mods {
		m(&o)
	}
	s, err := reposync.Run(context.Background(), o)
	return s, b.Stats().Requests[store.KindPut], err
}

// RepoSyncThreeRuns syncs a folder into url three times: cold (every file
// and the manifest written), unchanged (nothing written), after one file
// changed (that object and the manifest written); then a verify run finds
// no drift. Every file arrives under its own name.
func RepoSyncThreeRuns(t *testing.T, url string) {
	dir := t.TempDir()
	ob := Open(t, url, store.Options{})
	caps := ob.Capabilities()
	files := repoFiles(ob)
	writeTree(t, dir, files)

	start := time.Now()
	s1, puts, err := syncOnce(t, dir, url, nil)
	if err != nil {
		t.Fatalf("cold run: %v", err)
	}
	// Cold: every object, the intent record of the keys about to be
	// created, and the manifest.
	if s1.New != len(files) || s1.Skipped != 0 || puts != len(files)+2 {
		t.Fatalf("cold run: %d new, %d skipped, %d puts; want %d new, 0 skipped, %d puts (summary %+v)",
			s1.New, s1.Skipped, puts, len(files), len(files)+2, s1)
	}
	b := Open(t, url, store.Options{})
	for name, body := range files {
		data, _, err := b.Read(context.Background(), name)
		if err != nil || string(data) != body {
			t.Errorf("object %q = %q, %v; want %q", name, data, err, body)
		}
	}
	s2, puts, err := syncOnce(t, dir, url, nil)
	if err != nil {
		t.Fatalf("unchanged run: %v", err)
	}
	if puts != 0 || s2.New+s2.Modified+s2.Deleted != 0 {
		t.Fatalf("unchanged run wrote %d objects (summary %+v); want 0", puts, s2)
	}
	writeTree(t, dir, map[string]string{"docs/with space.md": "spaces, changed\n"})
	s3, puts, err := syncOnce(t, dir, url, nil)
	if err != nil {
		t.Fatalf("run after a change: %v", err)
	}
	if s3.Modified != 1 || s3.New != 0 || s3.Deleted != 0 || puts != 3 {
		t.Fatalf("run after a change: %d modified, %d new, %d deleted, %d puts; want 1, 0, 0 and 3 (the intent, the object and the manifest)",
			s3.Modified, s3.New, s3.Deleted, puts)
	}
	if data, _, err := b.Read(context.Background(), "docs/with space.md"); err != nil || string(data) != "spaces, changed\n" {
		t.Errorf("changed object = %q %v", data, err)
	}
	// A verify run lists the store: the ETags it lists must be those the
	// uploads reported (kept in the manifest), so nothing is "repaired".
	s4, puts, err := syncOnce(t, dir, url, nil, func(o *reposync.Options) { o.Verify = true })
	if err != nil || puts != 0 || s4.Repaired != 0 || s4.Changed() {
		t.Fatalf("verify run: %v, %d puts, summary %+v; want no drift", err, puts, s4)
	}
	t.Logf("%s: three repo-sync runs in %v", caps.Scheme, time.Since(start))
}

// barrierSource holds List until n runs have reached it, so that every run
// has read the manifest before any of them writes it.
type barrierSource struct {
	source.Source
	wg *sync.WaitGroup
}

func (s barrierSource) List(ctx context.Context) ([]source.Entry, error) {
	s.wg.Done()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		return nil, errors.New("barrier: the other run never reached List")
	}
	return s.Source.List(ctx)
}

// RepoSyncOverlap runs two overlapping syncs into url, cold and then after a
// change: each time exactly one writes the manifest and the other fails with
// reposync.ErrConcurrentRun.
func RepoSyncOverlap(t *testing.T, url string) {
	dir := t.TempDir()
	writeTree(t, dir, repoFiles(Open(t, url, store.Options{})))
	for round, change := range []string{"", "README.md"} {
		if change != "" {
			writeTree(t, dir, map[string]string{change: "changed in round " + string(rune('0'+round)) + "\n"})
		}
		var wg sync.WaitGroup
		wg.Add(2)
		errs := make([]error, 2)
		var run sync.WaitGroup
		for i := range 2 {
			run.Add(1)
			go func() {
				defer run.Done()
				src := barrierSource{Source: source.NewDir(dir, source.DirOptions{}), wg: &wg}
				_, _, errs[i] = syncOnce(t, dir, url, src)
			}()
		}
		run.Wait()
		wins, lost := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, reposync.ErrConcurrentRun):
				lost++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if wins != 1 || lost != 1 {
			t.Fatalf("round %d: %d runs wrote the manifest, %d lost; want exactly one each (errors %v)", round, wins, lost, errs)
		}
	}
	// The next run finds everything in place.
	if s, puts, err := syncOnce(t, dir, url, nil); err != nil || puts != 0 {
		t.Fatalf("run after the overlapping ones: %d puts, %v (summary %+v)", puts, err, s)
	}
}
