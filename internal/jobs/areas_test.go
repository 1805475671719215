package jobs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/config"
)

func TestOverlappingDestinationsAtLoad(t *testing.T) {
	repo := func(name, dest string) string {
		return "  - name: " + name + "\n    kind: repo\n    source: dir:.\n    dest: " + dest + "\n"
	}
	statuses := func(name, dest string) string {
		return "  - name: " + name + "\n    kind: statuses\n    repo: acme/site\n    branches: [main]\n    dest: " + dest + "\n"
	}
	for _, tc := range []struct {
		name, jobs string
		want       string // "" = accepted; else a part of the error
	}{
		{"same relative prefix", repo("a", "site/") + repo("b", "site/"), `jobs[1].dest: the destination of job "b"`},
		{"relative vs absolute spelling", repo("a", "site/") + repo("b", "s3://acme/www/site/?region=eu-west-1"), "k.yaml:6:5"},
		{"nested", repo("a", "site/") + repo("b", "site/docs/"), "inside"},
		{"bucket root holds every prefix", repo("a", "s3://acme/?region=eu-west-1") + repo("b", "site/"), "overlaps"},
		{"siblings sharing a name prefix", repo("a", "site/") + repo("b", "site2/"), ""},
		{"other bucket", repo("a", "site/") + repo("b", "s3://other/www/site/"), ""},
		{"other endpoint", repo("a", "site/") + repo("b", "s3://acme/www/site/?endpoint=http://127.0.0.1:7070"), ""},
		{"region does not matter", repo("a", "site/") + repo("b", "s3://acme/www/site/?region=us-east-1"), "overlaps"},
		{"fan-out area holds a fixed dest", "  - name: f\n    kind: repo\n    source: github:acme/{repo}\n    dest: mirrors/{repo}/\n" +
			"    repos_from:\n      database: sqlite://./x.db\n      query: select 'a' as repo\n" + repo("b", "mirrors/special/"), "overlaps"},
		{"status snapshots inside a repo dest", repo("a", "site/") + statuses("s", "site/status/"), ""},
		{"status snapshots inside a delete: all dest", repo("a", "site/") + "    delete: all\n" + statuses("s", "site/status/"), `job "a" deletes every object`},
		{"a delete: all dest inside status snapshots", statuses("s", "s3://acme/?region=eu-west-1") + repo("a", "site/") + "    delete: all\n", `jobs[1].dest`},
		{"delete: none still owns its prefix", repo("a", "site/") + "    delete: none\n" + repo("b", "site/docs/"), "overlaps"},
		{"status snapshots next to each other", statuses("s", "status/") + statuses("t", "status/"), ""},
		{"status snapshots beside a repo dest", repo("a", "site/") + statuses("s", "status/"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := "storage: s3://acme/www/?region=eu-west-1\njobs:\n" + tc.jobs
			_, err := Builtin().Parse([]byte(y), "k.yaml", nil)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || len(config.Errors(err)) != 1 {
				t.Fatalf("error %q: want one *config.Error containing %q", err, tc.want)
			}
		})
	}
}

func TestOverlappingWebhookArchiveAtLoad(t *testing.T) {
	y := "storage: file://./out\nwebhooks:\n  archive:\n    dest: site/hooks/\njobs:\n" +
		"  - name: a\n    kind: repo\n    source: dir:.\n    dest: site/\n"
	if _, err := Builtin().Parse([]byte(y), "k.yaml", nil); err != nil {
		t.Fatalf("delete: managed leaves the archive alone, got %v", err)
	}
	_, err := Builtin().Parse([]byte(y+"    delete: all\n"), "k.yaml", nil)
	if err == nil || !strings.Contains(err.Error(), "webhooks.archive.dest") {
		t.Fatalf("got %v, want the archive named", err)
	}
}

// Load (a file) refuses overlaps too, with the file's name and positions.
func TestOverlapRefusedByLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ghsync.yaml")
	y := "jobs:\n  - name: a\n    kind: repo\n    source: dir:.\n    dest: site/\n  - name: b\n    kind: repo\n    source: dir:.\n    dest: site/\n"
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(p, nil)
	if err == nil || !strings.Contains(err.Error(), p+":9:5") || !strings.Contains(err.Error(), p+":5:5") {
		t.Fatalf("got %v, want both dest positions", err)
	}
}

// The examples load with the cross-job checks (config's own test loads
// them without the registry's).
func TestExamplesHaveNoOverlappingDestinations(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("examples: %v %v", files, err)
	}
	env := map[string]string{
		"GITHUB_APP_ID": "123456", "GITHUB_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----|fake|-----END RSA PRIVATE KEY-----",
		"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/fake", "GITHUB_WEBHOOK_SECRET": "x",
		"AIRTABLE_TOKEN": "patFAKE.fake", "BADGR_USERNAME": "ops@example.com", "BADGR_PASSWORD": "x",
	}
	for _, f := range files {
		if _, err := LoadConfig(f, func(k string) string { return env[k] }); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
