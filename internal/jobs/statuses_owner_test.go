package jobs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/githubtest"
)

func statusesOwnerRunner(t *testing.T, gh *githubtest.Server, out string) *Runner {
	return runner(t, `
jobs:
  - name: hud
    kind: statuses
    repos: acme/*
    dest: file://`+filepath.ToSlash(out)+`/
    topics: [site]
    archived: false
`, map[string]string{"GITHUB_API_URL": gh.URL, "GITHUB_TOKEN": gh.Token})
}

// TestStatusesOwnerJob is issue 19's must-be-true 2 for statuses jobs: of
// 40 repositories (5 archived, 3 filtered out by topic) 32 are snapshotted
// (each default branch); a steady run costs 1 + 32 requests, all 304 (the
// listing, and each repository's branch head; no GraphQL, as every stored
// snapshot is of that head and settled); a commit is snapshotted; a new repository is snapshotted by the next run;
// one removed has its snapshots deleted (delete: managed).
func TestStatusesOwnerJob(t *testing.T) {
	gh := orgFixture(t)
	gh.Token = "hud-token"
	out := t.TempDir()
	ctx := context.Background()
	res, err := statusesOwnerRunner(t, gh, out).Run(ctx, "hud", RunOptions{})
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	sum := res.Summary.(*StatusesOwnerSummary)
	if sum.Listed != 40 || sum.OK != 32 || len(sum.Repos) != 32 {
		t.Fatalf("first run: listed %d, %d ok, %d rows; want 40, 32, 32", sum.Listed, sum.OK, len(sum.Repos))
	}
	for _, name := range []string{"site-08", "site-39"} {
		if _, err := os.Stat(filepath.Join(out, "acme", name, "main.json")); err != nil {
			t.Errorf("%s snapshot: %v", name, err)
		}
	}
	for _, name := range []string{"site-00", "site-05"} {
		if _, err := os.Stat(filepath.Join(out, "acme", name)); !os.IsNotExist(err) {
			t.Errorf("%s snapshotted although filtered out (%v)", name, err)
		}
	}

	gh.ResetCounts()
	res, err = statusesOwnerRunner(t, gh, out).Run(ctx, "hud", RunOptions{})
	if err != nil {
		t.Fatalf("steady run: %v", err)
	}
	sum = res.Summary.(*StatusesOwnerSummary)
	if !sum.ListingNotModified || gh.Total() != 33 || gh.NotModified() != 33 || gh.Count("POST /graphql") != 0 {
		t.Errorf("steady run: listing not modified %v; %d requests, %d answered 304; want 1 + 32, all 304, no GraphQL (%v)",
			sum.ListingNotModified, gh.Total(), gh.NotModified(), gh.Counts())
	}
	for _, r := range sum.Repos {
		if r.Summary == nil || r.Summary.BranchesUnchanged != 1 {
			t.Errorf("steady run row %s: %+v", r.Repo, r)
		}
	}

	var text strings.Builder
	res.WriteText(&text)
	if !strings.Contains(text.String(), "acme: 40 repositories listed (listing not modified)") || !strings.Contains(text.String(), "32 repositories: 32 ok, 0 failed") {
		t.Errorf("text:\n%s", text.String())
	}

	// A new commit on one repository: that repository alone is snapshotted
	// again (its head answers 200), the others stay 304.
	gh.AddRepo("acme", "site-20").Commit("main", map[string]string{"index.html": "v2"})
	gh.ResetCounts()
	res, err = statusesOwnerRunner(t, gh, out).Run(ctx, "hud", RunOptions{})
	if err != nil {
		t.Fatalf("run after a commit: %v", err)
	}
	if gh.NotModified() != 31 || gh.Count("POST /graphql") == 0 {
		t.Errorf("run after one commit: %d answered 304, %d GraphQL; want 31 (the listing changed: pushed_at) and some (%v)", gh.NotModified(), gh.Count("POST /graphql"), gh.Counts())
	}
	for _, r := range res.Summary.(*StatusesOwnerSummary).Repos {
		if r.Repo == "site-20" && (r.Summary == nil || r.Summary.BranchesWritten != 1) {
			t.Errorf("site-20 after a commit: %+v", r.Summary)
		}
	}
	gh.AddRepo("acme", "new-site").Commit("main", map[string]string{"index.html": "new"})
	gh.AddRepo("acme", "new-site").SetTopics("site")
	gh.RemoveRepo("acme", "site-09")
	r := statusesOwnerRunner(t, gh, out)
	res, err = r.Run(ctx, "hud", RunOptions{})
	if err != nil {
		t.Fatalf("run after a new and a removed repository: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "acme", "new-site", "main.json")); err != nil {
		t.Errorf("new-site not snapshotted: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "acme", "site-09", "main.json")); !os.IsNotExist(err) {
		t.Errorf("site-09's snapshot kept after it left the listing (%v)", err)
	}
	if !strings.Contains(textOf(res), "removed site-09 (left the listing): 1 snapshots deleted") {
		t.Errorf("text:\n%s", textOf(res))
	}
}

func textOf(res *Result) string {
	var b strings.Builder
	res.WriteText(&b)
	return b.String()
}

// TestStatusesOwnerJobRefetchesUnfinishedChecks: a repository whose head
// has a check still running is asked again on every run, although its
// head did not move; the settled ones are not.
func TestStatusesOwnerJobRefetchesUnfinishedChecks(t *testing.T) {
	gh := githubtest.New(t, githubtest.Options{})
	gh.Token = "hud-token"
	gh.AddRepo("acme", "done").Commit("main", map[string]string{"a": "1"})
	gh.AddRepo("acme", "busy").CommitInfo("main", githubtest.CommitInfo{Message: "wip", AuthorName: "Dev",
		Suites: []githubtest.CheckSuite{{Workflow: "ci", Runs: []githubtest.CheckRun{{Name: "build", Status: "IN_PROGRESS"}}}}})
	out := t.TempDir()
	r := runner(t, "jobs:\n  - name: hud\n    kind: statuses\n    repos: acme/*\n    dest: file://"+filepath.ToSlash(out)+"/\n",
		map[string]string{"GITHUB_API_URL": gh.URL, "GITHUB_TOKEN": gh.Token})
	ctx := context.Background()
	if _, err := r.Run(ctx, "hud", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	gh.ResetCounts()
	res, err := r.Run(ctx, "hud", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range res.Summary.(*StatusesOwnerSummary).Repos {
		asked := row.Summary != nil && row.Summary.GraphQLRequests > 0
		if asked != (row.Repo == "busy") {
			t.Errorf("%s: GraphQL asked %v (summary %+v)", row.Repo, asked, row.Summary)
		}
	}
	if gh.NotModified() != 3 { // the listing and both heads
		t.Errorf("%d answered 304, want 3 (%v)", gh.NotModified(), gh.Counts())
	}
}
