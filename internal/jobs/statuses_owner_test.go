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
// (each default branch); a steady run lists the owner with one request
// answered 304 and asks GraphQL once per repository (GraphQL has no
// conditional requests); a new repository is snapshotted by the next run;
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
	gql := gh.Count("POST /graphql")
	if !sum.ListingNotModified || gh.Total() != 33 || gh.NotModified() != 1 || gql != 32 {
		t.Errorf("steady run: listing not modified %v; %d requests (%d answered 304), %d GraphQL; want 1 (304) + 32 GraphQL (%v)",
			sum.ListingNotModified, gh.Total(), gh.NotModified(), gql, gh.Counts())
	}
	var text strings.Builder
	res.WriteText(&text)
	if !strings.Contains(text.String(), "acme: 40 repositories listed (listing not modified)") || !strings.Contains(text.String(), "32 repositories: 32 ok, 0 failed") {
		t.Errorf("text:\n%s", text.String())
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
