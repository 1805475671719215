package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/githubtest"
)

// The issue an inbox raises for a passing set has the original's body byte
// for byte: "EMS: PROFILE\nFiles:" then "\n- `KEY`" per file — nothing after
// the closing backtick (it used to be "`KEY` ", with a trailing space).
func TestInboxIssueBodyMatchesTheOriginal(t *testing.T) {
	gh := githubtest.New(t, githubtest.Options{})
	gh.Token = "ghp_good"
	gh.AddRepo("DemocracyClub", "UK-Polling-Stations")
	dir := t.TempDir()
	const prefix = "E07000223/2026-05-07/1700000000/"
	files := []string{"dc_districts.csv", "dc_stations.csv"}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("..", "internal", "inbox", "testdata", "files", f))
		if err != nil {
			t.Fatal(err)
		}
		writeTree(t, dir, map[string]string{"uploads/" + prefix + f: string(b)})
	}
	writeTree(t, dir, map[string]string{"ghsync.yaml": `jobs:
  - name: uploads
    kind: inbox
    watch: file://./uploads/
    final: file://./final/
    format: wdiv
    github:
      repo: DemocracyClub/UK-Polling-Stations
`})
	env := map[string]string{"GITHUB_API_URL": gh.URL, "GITHUB_TOKEN": gh.Token}
	if r := exe(t, dir, env, "run", "uploads", "--key", prefix+files[0]); r.code != 0 {
		t.Fatalf("run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	issues := gh.Issues("DemocracyClub", "UK-Polling-Stations")
	if len(issues) != 1 {
		t.Fatalf("%d issues, want 1", len(issues))
	}
	body := issues[0].Body
	first, _, _ := strings.Cut(body, "\n")
	want := first + "\nFiles:\n- `" + prefix + files[0] + "`\n- `" + prefix + files[1] + "`"
	if !strings.HasPrefix(first, "EMS: ") || body != want {
		t.Errorf("issue body\n%q\nwant\n%q", body, want)
	}
}
