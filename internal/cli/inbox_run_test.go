package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunInboxJob: `ghsync run INBOX` polls the watched folder and processes
// a new set once (a second run finds it unchanged); --key processes it again;
// --dry-run performs no action; a job of another kind refuses --key.
func TestRunInboxJob(t *testing.T) {
	dir := t.TempDir()
	set := filepath.Join(dir, "uploads", "E07000223", "2026-05-07", "1700000000")
	if err := os.MkdirAll(set, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"dc_districts.csv", "dc_stations.csv"} {
		b, err := os.ReadFile(filepath.Join("..", "inbox", "testdata", "files", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(set, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "ghsync.yaml")
	os.WriteFile(cfg, []byte(`database: sqlite://`+dir+`/ghsync.db
jobs:
  - name: uploads
    kind: inbox
    watch: file://`+dir+`/uploads/
    final: file://`+dir+`/final/
  - name: site
    kind: repo
    source: dir:`+dir+`/uploads
    dest: mem://site/
`), 0o644)
	ctx := context.Background()
	poll := func(args ...string) map[string]any {
		t.Helper()
		code, out, errs := runCLI(ctx, append([]string{"run", "uploads", "--config", cfg, "--json"}, args...)...)
		if code != ExitOK {
			t.Fatalf("run %v: exit %d\nstdout %s\nstderr %s", args, code, out, errs)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("run %v: %v in %q", args, err, out)
		}
		return m
	}
	if m := poll("--dry-run"); len(m["processed"].([]any)) != 1 {
		t.Fatalf("dry run: %v", m)
	}
	if _, err := os.Stat(filepath.Join(dir, "final")); err == nil {
		if entries, _ := os.ReadDir(filepath.Join(dir, "final")); len(entries) > 0 {
			t.Errorf("dry run copied to final: %v", entries)
		}
	}
	m := poll()
	p := m["processed"].([]any)
	if len(p) != 1 || p[0].(map[string]any)["passed"] != true {
		t.Fatalf("first run: %v", m)
	}
	if _, err := os.Stat(filepath.Join(dir, "final", "E07000223", "2026-05-07", "1700000000", "dc_stations.csv")); err != nil {
		t.Errorf("not promoted to final: %v", err)
	}
	if m := poll(); len(m["processed"].([]any)) != 0 || m["unchanged"] != 1.0 {
		t.Errorf("second run: %v; want the set unchanged", m)
	}
	if m := poll("--key", "E07000223/2026-05-07/1700000000/dc_stations.csv"); m["prefix"] == nil || m["skipped"] == true {
		t.Errorf("--key: %v; want the set processed again", m)
	}
	code, _, errs := runCLI(ctx, "run", "site", "--config", cfg, "--key", "x")
	if code != ExitUsage || !strings.Contains(errs, "does not take --key") {
		t.Errorf("repo job with --key: exit %d, %q", code, errs)
	}
	code, out, _ := runCLI(ctx, "jobs", "--config", cfg)
	if code != ExitOK || !strings.Contains(out, "uploads") || !strings.Contains(out, "inbox") {
		t.Errorf("jobs: %d %q", code, out)
	}
}
