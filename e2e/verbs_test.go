package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/githubtest"
)

func TestTokenVerbPrintsAnInstallationToken(t *testing.T) {
	gh := githubtest.New(t, githubtest.Options{})
	gh.AddInstallation("acme")
	env := map[string]string{"GITHUB_API_URL": gh.URL, "GITHUB_APP_ID": itoa(gh.AppID), "GITHUB_PRIVATE_KEY": string(gh.AppPrivateKeyPEM)}
	r := ghsync(t, env, "token", "--owner", "acme")
	if r.code != 0 || !strings.HasPrefix(strings.TrimSpace(r.stdout), "ghs_") {
		t.Fatalf("exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, strings.TrimSpace(r.stdout)) {
		t.Fatal("the token was logged")
	}
	if r := ghsync(t, env, "token", "--owner", "nobody"); r.code != 1 || !strings.Contains(r.stderr, "nobody") {
		t.Fatalf("unknown owner: exit %d, %s", r.code, r.stderr)
	}
	if r := ghsync(t, env, "token"); r.code != 2 {
		t.Fatalf("missing --owner: exit %d", r.code)
	}
}

func TestRunAndJobsWithAConfigFile(t *testing.T) {
	gh := githubtest.New(t, githubtest.Options{})
	gh.AddRepo("acme", "site").Commit("main", map[string]string{"public/index.html": "<h1>", "public/app.js.map": "{}", "README.md": "r"})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ghsync.yaml")
	os.WriteFile(cfg, []byte(`
github:
  api_url: ${API}
storage: file://`+dir+`/bucket
jobs:
  - name: site
    kind: repo
    source: github:acme/site@main
    dest: www/
    include: ["^public/"]
    exclude: ["\\.map$"]
    cache_control:
      "*.html": no-cache
`), 0o644)
	env := map[string]string{"API": gh.URL}
	r := ghsync(t, env, "run", "site", "--config", cfg, "--dry-run", "--json")
	if r.code != 0 || r.summary(t)["new"] != 1.0 || r.summary(t)["dry_run"] != true {
		t.Fatalf("dry run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "bucket", "www", "public", "index.html")); err == nil {
		t.Fatal("dry run wrote an object")
	}
	if r := ghsync(t, env, "run", "site", "--config", cfg, "--json"); r.code != 0 || r.summary(t)["new"] != 1.0 {
		t.Fatalf("run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	body, err := os.ReadFile(filepath.Join(dir, "bucket", "www", "public", "index.html"))
	if err != nil || string(body) != "<h1>" {
		t.Fatalf("object: %q %v", body, err)
	}
	r = ghsync(t, env, "jobs", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "site") || strings.Contains(r.stdout, "never") {
		t.Fatalf("jobs: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	os.WriteFile(cfg, []byte("jobs:\n  - name: site\n    kind: repo\n    source: github:acme/site\n    dest: x/\n    delete: some\n"), 0o644)
	r = ghsync(t, env, "run", "site", "--config", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "ghsync.yaml:6") || !strings.Contains(r.stderr, "delete") {
		t.Fatalf("bad config: exit %d, %s", r.code, r.stderr)
	}
}
