package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/webhooks"
)

// exe runs the built ghsync binary in dir with env (plus PATH and HOME) as
// its whole environment; a run still going after a minute is killed (exit
// code -1: a verb that should have stopped at once, such as serve with bad
// flags, kept running).
func exe(t *testing.T, dir string, env map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// entries lists dir's names.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// A DST that looks like a URL but lacks "//" is an error naming the likely
// intent; nothing is written (it used to go to ./out/s3:/…, exit 0).
func TestTypoDestinationIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"src/a.txt": "A"})
	for dst, want := range map[string]string{
		"s3:/acme-site/www": "did you mean s3://acme-site/www?",
		"s3:acme-site/www":  "did you mean s3://acme-site/www?",
		"file:/tmp/xx":      "did you mean file:///tmp/xx?",
	} {
		r := exe(t, dir, nil, "sync", "src", dst)
		if r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("sync src %s: exit %d, stderr %q; want exit 2 and %q", dst, r.code, r.stderr, want)
		}
	}
	writeTree(t, dir, map[string]string{"ghsync.yaml": "jobs:\n  - name: site\n    kind: repo\n    source: dir:src\n    dest: s3:/bucket/x\n"})
	r := exe(t, dir, nil, "jobs")
	if r.code != 2 || !strings.Contains(r.stderr, "ghsync.yaml:5:5: jobs[0].dest:") || !strings.Contains(r.stderr, "did you mean s3://bucket/x?") {
		t.Errorf("jobs with dest s3:/bucket/x: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := entries(t, dir); len(got) != 2 {
		t.Errorf("the folder holds %v; want only src and ghsync.yaml", got)
	}
}

// An ad-hoc sync joins a relative DST onto the config file's storage:.
func TestAdHocSyncHonoursConfigStorage(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"src/a.txt": "A", "ghsync.yaml": "storage: file://./elsewhere\n"})
	r := exe(t, dir, nil, "sync", "src", "site/")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "elsewhere", "site", "a.txt")); err != nil {
		t.Errorf("a.txt not under storage: %v (folder holds %v; stdout %q)", err, entries(t, dir), r.stdout)
	}
}

// fakeIMDS answers like an EC2 metadata service without a role: the IMDSv2
// token request is refused (the SDK then warns "falling back to IMDSv1") and
// there is no role.
func fakeIMDS(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Without credentials each store says so in one sentence naming the store,
// the sources tried and what to set; the AWS SDK's own warning goes through
// ghsync's logger (absent at --log-level error), not raw stderr.
func TestMissingCredentialsOneSentence(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"src/a.txt": "A"})
	env := map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": fakeIMDS(t), "AZURE_STORAGE_ACCOUNT": "acme"}
	for dst, want := range map[string]string{
		"s3://acme-site/www/?region=eu-west-1": "ghsync: no AWS credentials for s3://acme-site/www/?region=eu-west-1 (tried AWS_ACCESS_KEY_ID,",
		"gs://acme-site/www/":                  "ghsync: no Google Cloud credentials for gs://acme-site/www/ (tried GOOGLE_APPLICATION_CREDENTIALS,",
		"azblob://acme/www/":                   "ghsync: no Azure credentials for azblob://acme/www/ (tried AZURE_STORAGE_KEY,",
	} {
		r := exe(t, dir, env, "sync", "src", dst, "--log-format", "json", "--log-level", "error")
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], want) || len(lines[0]) > 450 {
			t.Errorf("sync to %s: exit %d, stderr (%d lines):\n%s\nwant exit 1 and one line starting %q", dst, r.code, len(lines), r.stderr, want)
		}
		if r.stdout != "" {
			t.Errorf("sync to %s: stdout %q, want nothing", dst, r.stdout)
		}
	}
	// ghsync jobs shows a clipped error in its table, the full text in --json.
	writeTree(t, dir, map[string]string{"ghsync.yaml": "jobs:\n  - name: site\n    kind: repo\n    source: dir:src\n    dest: s3://acme-site/www/?region=eu-west-1\n"})
	r := exe(t, dir, env, "jobs")
	if r.code != 0 {
		t.Fatalf("jobs: exit %d: %s", r.code, r.stderr)
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if n := len([]rune(l)); n > 220 {
			t.Errorf("jobs table line of %d characters:\n%s", n, l)
		}
	}
	r = exe(t, dir, env, "jobs", "--json")
	if !strings.Contains(r.stdout, "or run with an IAM role") {
		t.Errorf("jobs --json lacks the full error:\n%s", r.stdout)
	}
}

// Read-only verbs never create a database; a missing or empty one is named
// with what to do, exit 1.
func TestReadVerbsDoNotCreateADatabase(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nonexistent", "dir", "x.db")
	empty := filepath.Join(dir, "empty.db")
	writeTree(t, dir, map[string]string{"empty.db": ""})
	for _, args := range [][]string{
		{"events", "deliveries", "--database", "sqlite://" + missing},
		{"events", "list", "workflow_job", "--database", "sqlite://" + missing},
		{"jobs", "--database", "sqlite://" + missing},
		{"events", "deliveries", "--database", "sqlite://" + empty},
		{"events", "deliveries"}, // the default ./data/ghsync.db
	} {
		r := exe(t, dir, nil, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "no ghsync database at sqlite://") || !strings.Contains(r.stderr, "(run `ghsync serve` first)") {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 and no ghsync database at …", args, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "nonexistent")); err == nil {
		t.Error("a read verb created the database's directory")
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Error("a read verb created ./data")
	}
	if st, _ := os.Stat(empty); st.Size() != 0 {
		t.Error("a read verb wrote to an empty database file")
	}
	// Without --database, a database not created yet means no history
	// (serve has not run): jobs lists the jobs and creates nothing.
	if r := exe(t, dir, nil, "jobs"); r.code != 0 {
		t.Errorf("jobs: exit %d: %s", r.code, r.stderr)
	}
	writeTree(t, dir, map[string]string{"state.yaml": "database: sqlite://./state/x.db\njobs:\n  - name: site\n    kind: repo\n    source: dir:.\n    dest: mem://\n"})
	if r := exe(t, dir, nil, "jobs", "--config", "state.yaml"); r.code != 0 || !strings.Contains(r.stdout, "site") {
		t.Errorf("jobs with a database: not created yet: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "state")); err == nil {
		t.Error("jobs created the configured database's directory")
	}
}

// A database named explicitly that cannot be opened is an error: exit 1,
// or 2 when its URL is malformed.
func TestExplicitDatabaseErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"jobs", "--database", "postgres://postgres@127.0.0.1:1/x"}, 1, "open database postgres://postgres@127.0.0.1:1/x"},
		{[]string{"events", "deliveries", "--database", "postgres://postgres@127.0.0.1:1/x"}, 1, "open database postgres://postgres@127.0.0.1:1/x"},
		{[]string{"jobs", "--database", "nonsense"}, 2, `bad database URL "nonsense"`},
		{[]string{"events", "deliveries", "--database", "ftp://x/y"}, 2, `unsupported scheme "ftp"`},
	} {
		r := exe(t, dir, nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, r.code, r.stderr, c.code, c.want)
		}
	}
}

// Bad flags are usage errors like bad configuration: one line, exit 2.
func TestFlagValidationExit2(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"bad.yaml": "jobs:\n  - name: a\n    kind: repo\n   source: x\n    dest: y\n"})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--addr", "nonsense"}, `ghsync: --addr "nonsense": want HOST:PORT, such as 127.0.0.1:8080 or :8080`},
		{[]string{"serve", "--database", "mysql://x"}, `mysql:// URLs are for API sync targets only`},
		{[]string{"serve", "--database", "nonsense"}, `bad database URL "nonsense"`},
		{[]string{"serve", "--workers", "0"}, `ghsync: --workers 0: must be at least 1`},
		{[]string{"serve", "--job-timeout", "-1s"}, `ghsync: --job-timeout -1s: must be a positive duration`},
		{[]string{"sync", "git+file:///nonexistent/repo", "mem://x"}, `no git repository at /nonexistent/repo`},
		{[]string{"sync", "git+file://" + dir, "mem://x"}, `is not a git repository`},
		{[]string{"sync", "dir:/nonexistent", "mem://x"}, `source "dir:/nonexistent"`},
		{[]string{"jobs", "--config", "bad.yaml"}, `bad.yaml:4: invalid YAML: did not find expected '-' indicator (line 4: "   source: x")`},
	} {
		r := exe(t, dir, nil, c.args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 2 || len(lines) != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", c.args, r.code, r.stderr, c.want)
		}
	}
	r := exe(t, dir, nil, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "ghsync ") {
		t.Errorf("--version: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// The smaller first-hour items, each as users see it.
func TestFirstHourDetails(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 60 {
		files[fmt.Sprintf("src/f%02d.txt", i)] = "x"
	}
	writeTree(t, dir, files)

	// An ad-hoc sync prints its summary on stdout and logs nothing at INFO
	// (no job="", no repeat of the summary); mem:// is shown as mem://.
	r := exe(t, dir, nil, "sync", "src", "mem://")
	if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "→ mem:// at") {
		t.Errorf("ad-hoc sync: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	// A dry run lists the first 50 paths and says how many more.
	r = exe(t, dir, nil, "sync", "src", "mem://", "--dry-run")
	if !strings.Contains(r.stdout, "  + …and 10 more\n") {
		t.Errorf("dry run of 60 new files:\n%s", r.stdout)
	}
	// statuses names the positional argument, not a --repo flag.
	r = exe(t, dir, nil, "statuses", "acme", "mem://", "--branch", "main")
	if r.code != 2 || !strings.Contains(r.stderr, "ghsync: OWNER/REPO: must be OWNER/REPO") {
		t.Errorf("statuses acme: exit %d, stderr %q", r.code, r.stderr)
	}
	// --json: one JSON object with "error" on every failure.
	for _, args := range [][]string{
		{"sync", "src", "s3:/x", "--json"},
		{"jobs", "--json", "--database", "nonsense"},
		{"sync", "dir:/nonexistent", "mem://", "--json"},
	} {
		r = exe(t, dir, nil, args...)
		var v map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v["error"] == nil || r.code == 0 {
			t.Errorf("%v: exit %d, stdout %q (want one JSON object with error)", args, r.code, r.stdout)
		}
	}
	// Help pages of jobs and token have examples.
	for _, verb := range []string{"jobs", "token"} {
		if r = exe(t, dir, nil, verb, "--help"); !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("%s --help has no examples:\n%s", verb, r.stdout)
		}
	}
	// sync --help documents relative DSTs and how file:// keeps attributes.
	if r = exe(t, dir, nil, "sync", "--help"); !strings.Contains(r.stdout, "extended attribute") || !strings.Contains(r.stdout, "storage:") {
		t.Errorf("sync --help:\n%s", r.stdout)
	}
}

// A foreground `ghsync run` is recorded in the run history of the
// configured database, so `ghsync jobs` shows its outcome.
func TestForegroundRunInHistory(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"src/a.txt": "A", "ghsync.yaml": "database: sqlite://./state/ghsync.db\njobs:\n  - name: site\n    kind: repo\n    source: dir:src\n    dest: file://./out/\n"})
	if r := exe(t, dir, nil, "run", "site"); r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.stderr)
	}
	r := exe(t, dir, nil, "jobs")
	if r.code != 0 || !regexp.MustCompile(`site\s+repo\s+-\s+-\s+\S+\s+\S+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ.*\sok\s*\n`).MatchString(r.stdout) {
		t.Errorf("jobs after a foreground run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// events list prints a table like events deliveries (JSON with --json).
func TestEventsListTable(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite://" + filepath.Join(dir, "ghsync.db")
	d, err := db.Open(context.Background(), dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := webhooks.Migrate(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	d.Close()
	r := exe(t, dir, nil, "events", "list", "workflow_job", "--database", dbURL)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "UPDATED") || strings.Contains(r.stdout, "{") {
		t.Errorf("events list: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = exe(t, dir, nil, "events", "list", "workflow_job", "--database", dbURL, "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"table": "workflow_job"`) {
		t.Errorf("events list --json: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
