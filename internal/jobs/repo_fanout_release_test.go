package jobs

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/githubtest"
)

// TestReposFromReleaseSteadyRun: a repos_from job over releases costs, on a
// run where nothing changed, exactly one conditional request per
// repository, answered 304 (the release; its tag's commit is not asked
// again), and is up to date for every row.
func TestReposFromReleaseSteadyRun(t *testing.T) {
	gh := githubtest.New(t, githubtest.Options{})
	var rows []string
	for i := range 3 {
		name := fmt.Sprintf("app%d", i)
		r := gh.AddRepo("acme", name)
		r.Commit("main", map[string]string{"index.html": "v1 of " + name})
		r.AddRelease("v1.0")
		rows = append(rows, "select '"+name+"' as repo")
	}
	dir := t.TempDir()
	cfg := `
jobs:
  - name: apps
    kind: repo
    source: github:acme/{repo}@release:latest
    dest: mem://fanout-release-steady/
    key_template: "{repo}/"
    repos_from:
      database: sqlite://` + filepath.ToSlash(dir) + `/rows.db
      query: ` + strings.Join(rows, " union all ") + `
`
	r := runner(t, cfg, map[string]string{"GITHUB_API_URL": gh.URL})
	ctx := context.Background()
	if _, err := r.Run(ctx, "apps", RunOptions{}); err != nil {
		t.Fatalf("first run: %v", err)
	}
	gh.ResetCounts()
	res, err := r.Run(ctx, "apps", RunOptions{})
	if err != nil {
		t.Fatalf("steady run: %v", err)
	}
	sum := res.Summary.(*FanoutSummary)
	for _, row := range sum.Rows {
		if row.Summary == nil || !row.Summary.UpToDate {
			t.Errorf("row %v not up to date: %+v", row.Row, row)
		}
	}
	if gh.Total() != 3 || gh.NotModified() != 3 {
		t.Errorf("steady run over 3 repositories: %d GitHub requests, %d answered 304 (%v); want 3 and 3", gh.Total(), gh.NotModified(), gh.Counts())
	}

	// A new release is seen by the next run.
	gh.AddRepo("acme", "app1").Commit("main", map[string]string{"index.html": "v2"})
	gh.AddRepo("acme", "app1").AddRelease("v2.0")
	res, err = r.Run(ctx, "apps", RunOptions{})
	if err != nil {
		t.Fatalf("run after a new release: %v", err)
	}
	if s := res.Summary.(*FanoutSummary).Rows[1].Summary; s == nil || s.UpToDate || s.Ref != "v2.0" {
		t.Errorf("app1 after release v2.0: %+v", s)
	}
}

// TestReposFromReleaseSteadyRunNewProcess: the release records kept under
// the job's prefix make a steady run from a fresh runner (a one-shot
// `ghsync run` in a new process) cost one request per row, answered 304.
func TestReposFromReleaseSteadyRunNewProcess(t *testing.T) {
	gh := githubtest.New(t, githubtest.Options{})
	var rows []string
	for i := range 3 {
		name := fmt.Sprintf("app%d", i)
		r := gh.AddRepo("acme", name)
		r.Commit("main", map[string]string{"index.html": "v1 of " + name})
		r.AddRelease("v1.0")
		rows = append(rows, "select '"+name+"' as repo")
	}
	dir := t.TempDir()
	cfg := `
jobs:
  - name: apps
    kind: repo
    source: github:acme/{repo}@release:latest
    dest: file://` + filepath.ToSlash(dir) + `/out/
    repos_from:
      database: sqlite://` + filepath.ToSlash(dir) + `/rows.db
      query: ` + strings.Join(rows, " union all ") + `
`
	env := map[string]string{"GITHUB_API_URL": gh.URL}
	ctx := context.Background()
	if _, err := runner(t, cfg, env).Run(ctx, "apps", RunOptions{}); err != nil {
		t.Fatalf("first run: %v", err)
	}
	gh.ResetCounts()
	res, err := runner(t, cfg, env).Run(ctx, "apps", RunOptions{})
	if err != nil {
		t.Fatalf("steady run: %v", err)
	}
	if gh.Total() != 3 || gh.NotModified() != 3 {
		t.Errorf("steady run from a new runner: %d requests, %d answered 304 (%v); want 3 and 3\n%s", gh.Total(), gh.NotModified(), gh.Counts(), textOf(res))
	}
}
