// Package e2e runs the ghsync command as users do: in-process through
// cli.Main for fast checks, and as a built binary for crash and overlap
// tests against the real S3 server.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/testkit"

	"github.com/ghsync/ghsync/internal/cli"
)

// result is one ghsync invocation's outcome.
type result struct {
	code           int
	stdout, stderr string
}

// ghsync runs the CLI in-process with env as the whole environment.
func ghsync(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), args, cli.Env{Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return env[k] }})
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// summary decodes a --json summary.
func (r result) summary(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("stdout is not one JSON object (%v):\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	return m
}

// binary builds ./cmd/ghsync once per test process.
func binary(t *testing.T) string { return testkit.Ghsync(t) }

func writeTree(t *testing.T, dir string, files map[string]string) {
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

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"sync"},
		{"sync", "github:acme", "mem://x"},
		{"sync", ".", "ftp://nope"},
		{"sync", ".", "mem://x", "--delete", "some"},
		{"run", "nope"},
		{"bogus-verb"},
		{"sync", ".", "mem://x", "--include", "("},
	} {
		r := ghsync(t, map[string]string{}, args...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2; stderr: %s", args, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "ghsync: ") {
			t.Errorf("%v: no clear error on stderr: %q", args, r.stderr)
		}
	}
}

func TestSyncFolderJSONSummary(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"a.txt": "A", "b/c.txt": "C"})
	dst := "file://" + t.TempDir()
	r := ghsync(t, map[string]string{}, "sync", "dir:"+src, dst, "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	s := r.summary(t)
	for _, k := range []string{"commit", "new", "modified", "deleted", "unchanged", "bytes_downloaded", "bytes_uploaded",
		"github_requests", "github_not_modified", "store_requests", "duration_ms", "dry_run"} {
		if _, ok := s[k]; !ok {
			t.Errorf("summary lacks %q", k)
		}
	}
	if s["new"] != 2.0 {
		t.Fatalf("new = %v", s["new"])
	}
	r = ghsync(t, map[string]string{}, "sync", "dir:"+src, dst, "--json")
	if s := r.summary(t); s["unchanged"] != 2.0 || s["new"] != 0.0 {
		t.Fatalf("second run: %v", s)
	}
}
