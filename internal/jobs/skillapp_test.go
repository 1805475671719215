package jobs

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/apisync"
	"github.com/ghsync/ghsync/internal/apisync/apisynctest"
	"github.com/ghsync/ghsync/internal/githubtest"
)

// TestSkillAppSyncExample runs examples/skill-app-sync.yaml as written, only
// its ${VAR}s pointing at fakes: Airtable → assessment, Badgr → badges and
// assertions, then the templates job fanned out from assessment.latest_release
// to each template repository's release. One row names a repository
// without that release: it fails, the others still sync.
func TestSkillAppSyncExample(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	at := apisynctest.NewAirtable(t, "patTEST")
	at.SetRecords("appAAAAAAAAAAAAAA", "Assessments", []apisynctest.AirtableRecord{
		{ID: "rec00000000000001", CreatedTime: "2024-01-01T00:00:00.000Z", Fields: map[string]any{"Name": "Python", "template_repo": "python-tpl", "latest_release": "v1.0"}},
		{ID: "rec00000000000002", CreatedTime: "2024-01-01T00:00:00.000Z", Fields: map[string]any{"Name": "Go", "template_repo": "go-tpl", "latest_release": "v2.1"}},
		{ID: "rec00000000000003", CreatedTime: "2024-01-01T00:00:00.000Z", Fields: map[string]any{"Name": "Rust", "template_repo": "rust-tpl", "latest_release": "v9.9"}},
		{ID: "rec00000000000004", CreatedTime: "2024-01-01T00:00:00.000Z", Fields: map[string]any{"Name": "Draft"}},
	})
	bg := apisynctest.NewBadgr(t, "ops@example.com", "pw")
	bg.SetBadgeClasses("ISSUER1", []map[string]any{{"entityType": "BadgeClass", "entityId": "BC01", "name": "Skill", "issuer": "ISSUER1", "createdAt": "2024-01-02T03:04:05Z"}})
	bg.SetAssertions("ISSUER1", []map[string]any{{"entityType": "Assertion", "entityId": "AS01", "badgeclass": "BC01", "issuer": "ISSUER1",
		"recipient": map[string]any{"identity": "a@example.org", "type": "email", "hashed": false}, "issuedOn": "2024-02-03T04:05:06Z", "revoked": false}})
	gh := githubtest.New(t, githubtest.Options{})
	for repo, tag := range map[string]string{"python-tpl": "v1.0", "go-tpl": "v2.1", "rust-tpl": "v0.1"} {
		r := gh.AddRepo("brn-org", repo)
		r.Tag(tag, r.Commit("main", map[string]string{"README.md": repo, "src/main.txt": "hello " + repo}))
		r.AddRelease(tag)
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "skill-app-sync.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The example's Airtable and Badgr URLs default to the real APIs; its
	// ${VAR}s point them (and the templates' bucket) at the fakes.
	text := string(data)
	env := map[string]string{
		"AIRTABLE_API_URL": at.URL(), "BADGR_API_URL": bg.URL(), "TEMPLATES_DEST": "file://" + filepath.Join(dir, "templates") + "/",
		"GITHUB_TOKEN": "ghp_test", "GITHUB_API_URL": gh.URL, "AIRTABLE_TOKEN": "patTEST", "AIRTABLE_BASE_ID": "appAAAAAAAAAAAAAA",
		"BADGR_USERNAME": "ops@example.com", "BADGR_PASSWORD": "pw", "BADGR_ISSUER_ID": "ISSUER1",
		"BRN_DATABASE_URL": "sqlite://" + filepath.Join(dir, "brn.db"), "GHSYNC_DATABASE": "sqlite://" + filepath.Join(dir, "ghsync.db"),
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := ParseConfig([]byte(text), "skill-app-sync.yaml", getenv)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Config: cfg, Getenv: getenv}
	defer r.Close()
	for _, name := range []string{"assessments", "badges"} {
		res, err := r.Run(ctx, name, RunOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sum := res.Summary.(*apisync.Summary)
		if !res.Changed || sum.Changes() == 0 {
			t.Errorf("%s: nothing inserted: %+v", name, sum)
		}
		out, _ := json.Marshal(sum)
		for _, k := range []string{`"inserted":`, `"updated":`, `"unchanged":`, `"deleted":`, `"pages":`, `"requests":`, `"rate_limited":`, `"duration_ms":`} {
			if !strings.Contains(string(out), k) {
				t.Errorf("%s --json lacks %s: %s", name, k, out)
			}
		}
	}
	if c := r.Describe(cfg.Jobs[0]); !strings.Contains(c.Dest, "table assessment") {
		t.Errorf("describe: %+v", c)
	}

	res, err := r.Run(ctx, "templates", RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "1 of 3 rows failed") || !strings.Contains(err.Error(), "rust-tpl") {
		t.Fatalf("templates: err %v; want the rust-tpl row (no release v9.9) to fail alone", err)
	}
	fs := res.Summary.(*FanoutSummary)
	if fs.OK != 2 || fs.Failed != 1 || len(fs.Rows) != 3 {
		t.Fatalf("fan-out %+v", fs)
	}
	for repo, tag := range map[string]string{"python-tpl": "v1.0", "go-tpl": "v2.1"} {
		b, err := os.ReadFile(filepath.Join(dir, "templates", repo, tag, "src", "main.txt"))
		if err != nil || string(b) != "hello "+repo {
			t.Errorf("%s@%s: %q %v", repo, tag, b, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "templates", repo, tag, ".ghsync", "manifest.json")); err != nil {
			t.Errorf("%s: no manifest of its own: %v", repo, err)
		}
	}
	// Second run: the Airtable and Badgr tables are unchanged (0 writes);
	// the two good rows are up to date.
	res, err = r.Run(ctx, "assessments", RunOptions{})
	if err != nil || res.Changed || res.Summary.(*apisync.Summary).Statements != 0 {
		t.Errorf("second assessments run: %v changed=%v %+v", err, res.Changed, res.Summary)
	}
	res, _ = r.Run(ctx, "templates", RunOptions{})
	for _, row := range res.Summary.(*FanoutSummary).Rows {
		if row.Error != "" {
			continue
		}
		s := row.Summary
		written := s.StoreRequests["put"] + s.StoreRequests["delete"] + s.StoreRequests["multipart_part"]
		// Two requests: the release (answered 304 from the client's ETag
		// cache) and the tag's commit; nothing written.
		if !s.UpToDate || s.GitHubRequests > 2 || s.GitHubNotModified < 1 || written != 0 {
			t.Errorf("row %v on the second run: up to date %v, %d GitHub requests (%d not modified), %d store writes; want true, ≤ 2 (≥ 1), 0",
				row.Row, s.UpToDate, s.GitHubRequests, s.GitHubNotModified, written)
		}
	}
}
