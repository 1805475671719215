package jobs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/githubtest"
)

// orgFixture is an owner with 40 repositories: 5 archived, 3 without the
// "site" topic, 32 to mirror.
func orgFixture(t *testing.T) *githubtest.Server {
	gh := githubtest.New(t, githubtest.Options{})
	for i := range 40 {
		name := fmt.Sprintf("site-%02d", i)
		r := gh.AddRepo("acme", name)
		r.Commit("main", map[string]string{"index.html": "<h1>" + name + "</h1>", "css/a.css": "body{}"})
		switch {
		case i < 5:
			r.SetTopics("site")
			r.SetArchived(true)
		case i < 8:
			r.SetTopics("tool")
		default:
			r.SetTopics("docs", "site")
		}
	}
	return gh
}

func ownerRunner(t *testing.T, gh *githubtest.Server, out string) *Runner {
	return runner(t, `
jobs:
  - name: org
    kind: repo
    source: github:acme/*
    dest: file://`+filepath.ToSlash(out)+`/
    topics: [site]
    archived: false
`, map[string]string{"GITHUB_API_URL": gh.URL})
}

// TestOwnerJob is issue 19's must-be-true 2 for repo jobs: 40 repositories
// (5 archived, 3 filtered out by topic) → 32 mirrored, each under its own
// prefix with its own manifest; a steady run costs 1 + 32 requests, all
// answered 304 (also from a fresh process: the listing's validators are
// kept under the destination); a new repository is mirrored by the next
// run; one removed has its prefix handled by the delete policy.
func TestOwnerJob(t *testing.T) {
	gh := orgFixture(t)
	out := t.TempDir()
	ctx := context.Background()
	res, err := ownerRunner(t, gh, out).Run(ctx, "org", RunOptions{})
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	sum := res.Summary.(*FanoutSummary)
	if sum.Listed != 40 || sum.OK != 32 || sum.Failed != 0 || len(sum.Rows) != 32 {
		t.Fatalf("first run: listed %d, %d ok, %d failed, %d rows; want 40, 32, 0, 32", sum.Listed, sum.OK, sum.Failed, len(sum.Rows))
	}
	for _, name := range []string{"site-08", "site-39"} {
		if b, err := os.ReadFile(filepath.Join(out, name, "index.html")); err != nil || !strings.Contains(string(b), name) {
			t.Errorf("%s/index.html: %q, %v", name, b, err)
		}
		m, err := os.ReadFile(filepath.Join(out, name, ".ghsync", "manifest.json"))
		if err != nil || !strings.Contains(string(m), `"owner": "github:acme/`+name+`"`) && !strings.Contains(string(m), `"owner":"github:acme/`+name+`"`) {
			t.Errorf("%s manifest: %v %.200s", name, err, m)
		}
	}
	for _, name := range []string{"site-00", "site-04", "site-05", "site-07"} { // archived, other topic
		if _, err := os.Stat(filepath.Join(out, name)); !os.IsNotExist(err) {
			t.Errorf("%s mirrored although filtered out (%v)", name, err)
		}
	}

	// Steady run, in a fresh runner (a new process): 1 + 32, all 304.
	gh.ResetCounts()
	res, err = ownerRunner(t, gh, out).Run(ctx, "org", RunOptions{})
	if err != nil {
		t.Fatalf("steady run: %v", err)
	}
	sum = res.Summary.(*FanoutSummary)
	if !sum.ListingNotModified || res.Changed {
		t.Errorf("steady run: listing not modified %v, changed %v", sum.ListingNotModified, res.Changed)
	}
	if gh.Total() != 33 || gh.NotModified() != 33 {
		t.Errorf("steady run: %d GitHub requests, %d answered 304 (%v); want 1 + 32 = 33, all 304", gh.Total(), gh.NotModified(), gh.Counts())
	}
	var text strings.Builder
	res.WriteText(&text)
	if !strings.Contains(text.String(), "40 repositories listed (listing not modified), 32 kept") || !strings.Contains(text.String(), "32 repositories: 32 ok, 0 failed") {
		t.Errorf("steady run text:\n%s", text.String())
	}

	// A new repository appears: mirrored by the next run.
	gh.AddRepo("acme", "new-site").Commit("main", map[string]string{"index.html": "new"})
	gh.AddRepo("acme", "new-site").SetTopics("site")
	r := ownerRunner(t, gh, out)
	if res, err = r.Run(ctx, "org", RunOptions{}); err != nil {
		t.Fatalf("run after a new repository: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "new-site", "index.html")); err != nil || string(b) != "new" {
		t.Fatalf("new-site not mirrored: %q, %v", b, err)
	}

	// One removed: its prefix is handled by the delete policy (managed:
	// what the job wrote there is deleted).
	os.WriteFile(filepath.Join(out, "site-09", "not-ours.txt"), []byte("x"), 0o644)
	gh.RemoveRepo("acme", "site-09")
	res, err = r.Run(ctx, "org", RunOptions{DryRun: true})
	if err != nil || !strings.Contains(textOf(res), "would remove site-09") {
		t.Fatalf("dry run after a removal: %v\n%s", err, textOf(res))
	}
	if _, err := os.Stat(filepath.Join(out, "site-09", "index.html")); err != nil {
		t.Fatalf("dry run deleted site-09/index.html: %v", err)
	}
	res, err = r.Run(ctx, "org", RunOptions{})
	if err != nil {
		t.Fatalf("run after a removal: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "site-09", "index.html")); !os.IsNotExist(err) {
		t.Errorf("site-09/index.html still there after the repository left (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(out, "site-09", "not-ours.txt")); err != nil {
		t.Errorf("delete: managed deleted an object the job did not write: %v", err)
	}
	sum = res.Summary.(*FanoutSummary)
	var removed *FanoutRow
	for i := range sum.Rows {
		if sum.Rows[i].Removed != nil {
			removed = &sum.Rows[i]
		}
	}
	if removed == nil || removed.Row["repo"] != "site-09" || removed.Removed.Deleted != 3 {
		t.Errorf("removal row: %+v", removed)
	}
	// The next run no longer looks at it.
	if res, err = r.Run(ctx, "org", RunOptions{}); err != nil || len(res.Summary.(*FanoutSummary).Rows) != 32 {
		t.Fatalf("run after the removal was handled: %v", err)
	}
}

// TestOwnerJobListingFailureRemovesNothing: a failed listing fails the run
// and deletes nothing; too many repositories leaving at once are not
// removed without --force.
func TestOwnerJobListingFailureRemovesNothing(t *testing.T) {
	gh := orgFixture(t)
	out := t.TempDir()
	ctx := context.Background()
	r := ownerRunner(t, gh, out)
	if _, err := r.Run(ctx, "org", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	gh.Fail("GET /orgs/{org}/repos", 500, 50)
	if _, err := r.Run(ctx, "org", RunOptions{}); err == nil || !strings.Contains(err.Error(), "nothing synced or removed") {
		t.Fatalf("run with a failing listing: %v", err)
	}
	gh = orgFixture(t) // a new fake: same names, but only 10 of the 32 are there
	for i := range 40 {
		if i >= 18 {
			gh.RemoveRepo("acme", fmt.Sprintf("site-%02d", i))
		}
	}
	r = ownerRunner(t, gh, out)
	_, err := r.Run(ctx, "org", RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("22 of 32 leaving: %v; want a refusal naming --force", err)
	}
	if _, err := os.Stat(filepath.Join(out, "site-30", "index.html")); err != nil {
		t.Fatalf("refused removal deleted objects: %v", err)
	}
	if _, err := r.Run(ctx, "org", RunOptions{Force: true}); err != nil {
		t.Fatalf("forced run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "site-30", "index.html")); !os.IsNotExist(err) {
		t.Fatalf("forced removal left site-30 (%v)", err)
	}
}

// TestOwnerReleaseJobSteadyRun: github:acme/*@release:latest mirrors each
// repository's latest release to DEST/{repo}/{tag}/; a steady run, from a
// fresh runner (a new process), costs the listing plus one request per
// repository (the release), all answered 304; a new release is mirrored.
func TestOwnerReleaseJobSteadyRun(t *testing.T) {
	gh := githubtest.New(t, githubtest.Options{})
	for i := range 5 {
		name := fmt.Sprintf("app%d", i)
		r := gh.AddRepo("acme", name)
		r.Commit("main", map[string]string{"index.html": name + " v1"})
		r.AddRelease("v1.0")
	}
	out := t.TempDir()
	cfg := "jobs:\n  - name: rel\n    kind: repo\n    source: github:acme/*@release:latest\n    dest: file://" + filepath.ToSlash(out) + "/\n"
	env := map[string]string{"GITHUB_API_URL": gh.URL}
	ctx := context.Background()
	if _, err := runner(t, cfg, env).Run(ctx, "rel", RunOptions{}); err != nil {
		t.Fatalf("first run: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "app3", "v1.0", "index.html")); err != nil || string(b) != "app3 v1" {
		t.Fatalf("app3/v1.0/index.html: %q, %v", b, err)
	}
	gh.ResetCounts()
	res, err := runner(t, cfg, env).Run(ctx, "rel", RunOptions{})
	if err != nil {
		t.Fatalf("steady run: %v", err)
	}
	if gh.Total() != 6 || gh.NotModified() != 6 {
		t.Errorf("steady run over 5 releases: %d requests, %d answered 304 (%v); want 1 + 5, all 304\n%s", gh.Total(), gh.NotModified(), gh.Counts(), textOf(res))
	}
	gh.AddRepo("acme", "app2").Commit("main", map[string]string{"index.html": "app2 v2"})
	gh.AddRepo("acme", "app2").AddRelease("v2.0")
	if _, err := runner(t, cfg, env).Run(ctx, "rel", RunOptions{}); err != nil {
		t.Fatalf("run after a new release: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "app2", "v2.0", "index.html")); err != nil || string(b) != "app2 v2" {
		t.Fatalf("app2/v2.0/index.html: %q, %v", b, err)
	}
}

// TestOwnerJobStateFolderRepository: a repository named .ghsync fails its
// row (its prefix would be the job's state folder); the others are
// mirrored and the state survives it leaving the listing.
func TestOwnerJobStateFolderRepository(t *testing.T) {
	gh := githubtest.New(t, githubtest.Options{})
	gh.AddRepo("acme", "site").Commit("main", map[string]string{"index.html": "s"})
	gh.AddRepo("acme", ".ghsync").Commit("main", map[string]string{"repos.json": "{}"})
	out := t.TempDir()
	cfg := "jobs:\n  - name: org\n    kind: repo\n    source: github:acme/*\n    dest: file://" + filepath.ToSlash(out) + "/\n    delete: all\n"
	r := runner(t, cfg, map[string]string{"GITHUB_API_URL": gh.URL})
	ctx := context.Background()
	res, err := r.Run(ctx, "org", RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "exclude_repos") || res.Summary.(*FanoutSummary).OK != 1 {
		t.Fatalf("run with a .ghsync repository: %v", err)
	}
	gh.RemoveRepo("acme", ".ghsync")
	if _, err := r.Run(ctx, "org", RunOptions{}); err != nil {
		t.Fatalf("run after .ghsync left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, ".ghsync", "repos.json")); err != nil {
		t.Fatalf("the job's state: %v", err)
	}
}
