package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/githubtest"
)

// TestWholeOwnerJobsThroughTheBinary runs `ghsync run` on a repo job and a
// statuses job over an owner of 40 repositories (5 archived, 3 without the
// "site" topic): 32 mirrored and snapshotted; a steady run of the repo job
// and of the statuses job each cost 1 + 32 GitHub requests, all 304,
// although every run is a new process; a new repository is picked up and a removed one's prefix
// deleted by the next run; --json is one object with a row per repository.
func TestWholeOwnerJobsThroughTheBinary(t *testing.T) {
	gh := githubtest.New(t, githubtest.Options{})
	gh.Token = "e2e-token"
	for i := range 40 {
		name := fmt.Sprintf("site-%02d", i)
		r := gh.AddRepo("acme", name)
		r.Commit("main", map[string]string{"index.html": "<h1>" + name + "</h1>"})
		switch {
		case i < 5:
			r.SetTopics("site")
			r.SetArchived(true)
		case i < 8:
			r.SetTopics("tool")
		default:
			r.SetTopics("site")
		}
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	cfg := filepath.Join(dir, "ghsync.yaml")
	os.WriteFile(cfg, []byte(`jobs:
  - name: org
    kind: repo
    source: github:acme/*
    dest: file://`+filepath.ToSlash(out)+`/sites/
    topics: [site]
    archived: false
  - name: hud
    kind: statuses
    repos: acme/*
    dest: file://`+filepath.ToSlash(out)+`/hud/
    topics: [site]
    archived: false
`), 0o644)
	env := map[string]string{"GITHUB_API_URL": gh.URL, "GITHUB_TOKEN": gh.Token}
	run := func(job string) (result, map[string]any) {
		t.Helper()
		r := exe(t, dir, env, "run", job, "--config", cfg, "--json")
		var sum map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
			t.Fatalf("run %s: --json is not one JSON object (%v)\n%s\n%s", job, err, r.stdout, r.stderr)
		}
		return r, sum
	}
	rows := func(sum map[string]any, key string) []any {
		if s, ok := sum["summary"].(map[string]any); ok {
			sum = s
		}
		v, _ := sum[key].([]any)
		return v
	}

	r, sum := run("org")
	if r.code != 0 || len(rows(sum, "rows")) != 32 {
		t.Fatalf("first org run: exit %d, %d rows; want 0 and 32\n%s\n%s", r.code, len(rows(sum, "rows")), r.stdout, r.stderr)
	}
	r, sum = run("hud")
	if r.code != 0 || len(rows(sum, "repos")) != 32 {
		t.Fatalf("first hud run: exit %d, %d rows\n%s\n%s", r.code, len(rows(sum, "repos")), r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "hud", "acme", "site-20", "main.json")); err != nil {
		t.Fatalf("hud snapshot: %v", err)
	}

	gh.ResetCounts()
	if r, _ = run("org"); r.code != 0 {
		t.Fatalf("steady org run: exit %d\n%s", r.code, r.stderr)
	}
	if gh.Total() != 33 || gh.NotModified() != 33 {
		t.Errorf("steady org run (a new process): %d GitHub requests, %d answered 304 (%v); want 33, all 304", gh.Total(), gh.NotModified(), gh.Counts())
	}
	gh.ResetCounts()
	if r, _ = run("hud"); r.code != 0 {
		t.Fatalf("steady hud run: exit %d\n%s", r.code, r.stderr)
	}
	if gh.Total() != 33 || gh.NotModified() != 33 {
		t.Errorf("steady hud run (a new process): %d GitHub requests, %d answered 304 (%v); want 33, all 304", gh.Total(), gh.NotModified(), gh.Counts())
	}
	if r = exe(t, dir, env, "run", "org", "--config", cfg); !strings.Contains(r.stdout, "acme: 40 repositories listed (listing not modified), 32 kept by the filters") {
		t.Errorf("text output:\n%s\n%s", r.stdout, r.stderr)
	}

	gh.AddRepo("acme", "zz-new").Commit("main", map[string]string{"index.html": "new"})
	gh.AddRepo("acme", "zz-new").SetTopics("site")
	gh.RemoveRepo("acme", "site-10")
	for _, job := range []string{"org", "hud"} {
		if r, _ = run(job); r.code != 0 {
			t.Fatalf("%s run after a new and a removed repository: exit %d\n%s\n%s", job, r.code, r.stdout, r.stderr)
		}
	}
	for path, want := range map[string]bool{
		"sites/zz-new/index.html":    true,
		"sites/site-10/index.html":   false,
		"hud/acme/zz-new/main.json":  true,
		"hud/acme/site-10/main.json": false,
	} {
		_, err := os.Stat(filepath.Join(out, path))
		if got := err == nil; got != want {
			t.Errorf("%s exists: %v, want %v", path, got, want)
		}
	}
}
