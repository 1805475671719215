package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An inbox emailing through SES on a machine without AWS credentials: the
// email is "not performed" (as a missing GitHub credential or callback
// token is), shown with its payload, and not retried on every later run
// (it used to fail each run and be retried). A --dry-run first creates no
// database.
func TestInboxSESWithoutCredentialsIsNotPerformed(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "internal", "inbox", "testdata", "files", "incomplete.csv"))
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string]string{
		"uploads/E07000223/2026-05-07/1700000000/stations.csv": string(b),
		"ghsync.yaml": `jobs:
  - name: uploads
    kind: inbox
    watch: file://./uploads/
    final: file://./final/
    format: wdiv
    email:
      to: [errors@example.org]
      from: inbox@example.org
      via: ses://?region=eu-west-2
`})
	env := map[string]string{"AWS_EC2_METADATA_DISABLED": "true"}
	dry := exe(t, dir, env, "run", "uploads", "--dry-run")
	if dry.code != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", dry.code, dry.stdout, dry.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Errorf("--dry-run created the database folder: %v", entries(t, filepath.Join(dir, "data")))
	}
	first := exe(t, dir, env, "run", "uploads")
	if first.code != 0 || !strings.Contains(first.stdout, "no AWS credentials for SES") {
		t.Fatalf("first run: exit %d\nstdout %s\nstderr %s", first.code, first.stdout, first.stderr)
	}
	second := exe(t, dir, env, "run", "uploads", "--json")
	if second.code != 0 || !strings.Contains(second.stdout, `"unchanged": 1`) {
		t.Errorf("second run: exit %d; want the set unchanged (not retried)\n%s%s", second.code, second.stdout, second.stderr)
	}
}

// `ghsync run JOB --dry-run` of a repo job in a config naming a SQLite
// database creates no database (it used to create it to record the run).
func TestDryRunCreatesNoDatabase(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"src/a.txt":   "A",
		"ghsync.yaml": "database: sqlite://./state/ghsync.db\njobs:\n  - name: site\n    kind: repo\n    source: dir:src\n    dest: file://./out/site/\n",
	})
	if r := exe(t, dir, nil, "run", "site", "--dry-run"); r.code != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, p := range []string{"state"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("--dry-run created %s", p)
		}
	}
}

// The AWS SDK's own "falling back to IMDSv1" warning (printed by the SDK on
// stderr when the instance metadata service refuses a token, as off EC2)
// goes through ghsync's logger at debug level instead of bypassing it.
func TestAWSSDKWarningGoesThroughTheLogger(t *testing.T) {
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }))
	defer imds.Close()
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "internal", "inbox", "testdata", "files", "incomplete.csv"))
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string]string{
		"uploads/E07000223/2026-05-07/1700000000/stations.csv": string(b),
		"ghsync.yaml": "jobs:\n  - name: uploads\n    kind: inbox\n    watch: file://./uploads/\n    format: wdiv\n    email:\n      to: [errors@example.org]\n      from: inbox@example.org\n      via: ses://?region=eu-west-2\n",
	})
	env := map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.URL}
	r := exe(t, dir, env, "run", "uploads", "--log-format", "json")
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if line != "" && !strings.HasPrefix(line, "{") && !strings.HasPrefix(line, "ghsync: ") {
			t.Errorf("a line bypassed the logger: %q", line)
		}
	}
	if r.code != 0 {
		t.Errorf("run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	d := exe(t, dir, env, "run", "uploads", "--key", "E07000223/2026-05-07/1700000000/stations.csv", "--log-level", "debug", "--log-format", "json")
	if !strings.Contains(d.stderr, `"msg":"aws sdk: `) {
		t.Errorf("the SDK's line is not in the debug log:\n%s", d.stderr)
	}
}
