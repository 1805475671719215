package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/webhooks"
)

// Relative paths in a config file resolve against the file's folder, as in
// docker-compose: run from another folder with --config ../proj/ghsync.yaml,
// a job's dir: source and file:// destination, the storage and the sqlite
// database are the ones beside the file (they used to be taken from the
// working directory: "no ghsync database … (run `ghsync serve` first)").
func TestConfigRelativePathsResolveAgainstItsFolder(t *testing.T) {
	root := t.TempDir()
	proj := filepath.Join(root, "proj")
	elsewhere := filepath.Join(root, "a", "b")
	writeTree(t, proj, map[string]string{
		"src/index.html": "hello",
		"ghsync.yaml": `storage: file://./bucket
jobs:
  - name: site
    kind: repo
    source: dir:./src
    dest: file://./out/site/
  - name: docs
    kind: repo
    source: src
    dest: docs/
`,
	})
	if err := os.MkdirAll(elsewhere, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := "../../proj/ghsync.yaml"
	for _, job := range []string{"site", "docs"} {
		if r := exe(t, elsewhere, nil, "run", job, "--config", cfg); r.code != 0 {
			t.Fatalf("run %s: exit %d\n%s%s", job, r.code, r.stdout, r.stderr)
		}
	}
	for _, p := range []string{"out/site/index.html", "bucket/docs/index.html"} {
		if b, err := os.ReadFile(filepath.Join(proj, p)); err != nil || string(b) != "hello" {
			t.Errorf("%s beside the config: %q, %v", p, b, err)
		}
	}
	if got := entries(t, elsewhere); len(got) != 0 {
		t.Errorf("the run wrote into the working directory: %v", got)
	}

	// The default database (sqlite://./data/ghsync.db) is the one beside
	// the config, where `ghsync serve` run there keeps it.
	d, err := db.Open(context.Background(), "sqlite://"+filepath.Join(proj, "data", "ghsync.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := webhooks.Migrate(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	d.Close()
	r := exe(t, elsewhere, nil, "events", "deliveries", "--config", cfg)
	if r.code != 0 || strings.Contains(r.stderr, "no ghsync database") {
		t.Errorf("events deliveries --config %s: exit %d\n%s%s", cfg, r.code, r.stdout, r.stderr)
	}
	if got := entries(t, elsewhere); len(got) != 0 {
		t.Errorf("wrote into the working directory: %v", got)
	}
}

// A DST starting with ./, ../ or / is a local folder, as in rclone and the
// aws CLI (./o6 used to go to file://./out/./o6, and /abs was refused).
func TestSyncLocalFolderDest(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "w")
	writeTree(t, dir, map[string]string{"src/a.txt": "A"})
	abs := filepath.Join(root, "abs", "o7")
	for dst, folder := range map[string]string{"./o6": filepath.Join(dir, "o6"), "../o8": filepath.Join(root, "o8"), abs: abs} {
		r := exe(t, dir, nil, "sync", "src", dst)
		if r.code != 0 {
			t.Errorf("sync src %s: exit %d\n%s%s", dst, r.code, r.stdout, r.stderr)
			continue
		}
		if b, err := os.ReadFile(filepath.Join(folder, "a.txt")); err != nil || string(b) != "A" {
			t.Errorf("sync src %s: %s/a.txt = %q, %v", dst, folder, b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Errorf("a local DST was written under ./out")
	}
}
