package config_test

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/reposync"
)

// exampleFiles lists the YAML files in the repository's examples/ folder.
func exampleFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join("..", "..", "examples", pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	return files
}

// fakeEnv supplies the secrets the examples reference; every other variable
// is unset, so ${VAR:-default} defaults apply as on a fresh machine.
func fakeEnv(name string) string {
	return map[string]string{
		"GITHUB_APP_ID":         "123456",
		"GITHUB_PRIVATE_KEY":    "-----BEGIN RSA PRIVATE KEY-----|fake|-----END RSA PRIVATE KEY-----",
		"SLACK_WEBHOOK_URL":     "https://hooks.slack.com/services/T/B/fake",
		"GITHUB_WEBHOOK_SECRET": "fake-webhook-secret",
		"AIRTABLE_TOKEN":        "patFAKE.fake",
		"BADGR_USERNAME":        "ops@example.com",
		"BADGR_PASSWORD":        "fake-password",
	}[name]
}

func TestExamplesLoad(t *testing.T) {
	files := exampleFiles(t)
	if len(files) < 2 {
		t.Fatalf("expected at least 2 example files, found %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f, fakeEnv, kinds)
			if err != nil {
				t.Fatalf("load %s:\n%v", f, err)
			}
			if len(c.Jobs) == 0 {
				t.Errorf("%s has no jobs", f)
			}
			if len(c.Warnings) != 0 {
				t.Errorf("%s: examples must not write secrets literally: %v", f, c.Warnings)
			}
		})
	}
}

func TestFullExample(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "examples", "ghsync.yaml"), fakeEnv, kinds)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, j := range c.Jobs {
		count[j.Kind]++
	}
	if count[jobs.KindRepo] == 0 || count[jobs.KindStatuses] == 0 {
		t.Errorf("full example should have repo and statuses jobs: %v", count)
	}
	tpl, ok := c.Job("templates")
	if !ok {
		t.Fatal("no templates job")
	}
	if jobs.RepoOf(tpl).Dest != "s3://acme-sync/templates/?region=eu-west-1" || jobs.RepoOf(tpl).Delete != reposync.DeleteAll || len(jobs.RepoOf(tpl).CacheControl) != 2 {
		t.Errorf("templates job: %+v", jobs.RepoOf(tpl))
	}
	if len(c.Webhooks.Secrets) != 1 || c.Webhooks.Archive.Dest != "s3://acme-sync/webhooks/?region=eu-west-1" {
		t.Errorf("webhooks: %d secrets, archive %q", len(c.Webhooks.Secrets), c.Webhooks.Archive.Dest)
	}
	// Without any environment the defaults in ${VAR:-...} apply and the
	// optional secrets are simply unset: the example still loads, as an App
	// without credentials is rejected only when app_id is set.
	if _, err := os.Stat(filepath.Join("..", "..", "examples", "minimal.yaml")); err != nil {
		t.Fatal(err)
	}
	c, err = Load(filepath.Join("..", "..", "examples", "ghsync.yaml"), nil, kinds)
	if err != nil {
		t.Fatalf("full example with an empty environment: %v", err)
	}
	if c.Storage != "s3://acme-sync?region=eu-west-1" || c.GitHub.AuthKind() != AuthNone {
		t.Errorf("storage %q auth %q", c.Storage, c.GitHub.AuthKind())
	}
}
