package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/inbox/inboxtest"
	"github.com/ghsync/ghsync/internal/jobs"
)

// checkEnv is a folder with a config of two jobs — a repo job reading
// github:acme/site (fake GitHub) into a folder, and an inbox job watching a
// folder that raises issues and mails through an SMTP server with
// STARTTLS and AUTH — and the environment the binary runs with.
type checkEnv struct {
	dir  string
	env  map[string]string
	gh   *githubtest.Server
	smtp *inboxtest.SMTPServer
}

func newCheckEnv(t *testing.T, smtpPass, database string) *checkEnv {
	t.Helper()
	binary(t) // built before the runs' one-minute timeouts start
	gh := githubtest.New(t, githubtest.Options{})
	gh.Token = "ghp_good"
	gh.AddRepo("acme", "site").Commit("main", map[string]string{"index.html": "hi"})
	gh.AddRepo("acme", "data")
	smtp := inboxtest.StartSMTP(t, "mailer", "mailpass")
	dir := t.TempDir()
	ca := filepath.Join(dir, "smtp-ca.pem")
	if err := os.WriteFile(ca, smtp.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "uploads"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string]string{"ghsync.yaml": `database: ` + database + `
jobs:
  - name: site
    kind: repo
    source: github:acme/site@main
    dest: file://./out/site/
  - name: uploads
    kind: inbox
    watch: file://./uploads/
    format: wdiv
    github:
      repo: acme/data
    email:
      to: [errors@example.org]
      from: inbox@example.org
      via: smtp://mailer:` + smtpPass + `@` + smtp.Addr + `
`})
	return &checkEnv{dir: dir, gh: gh, smtp: smtp, env: map[string]string{
		"GITHUB_API_URL": gh.URL, "GITHUB_TOKEN": gh.Token, "SSL_CERT_FILE": ca}}
}

// checkJSON runs `ghsync check --json` and decodes its report.
func checkJSON(t *testing.T, c *checkEnv, args ...string) (result, map[string]jobs.Check) {
	t.Helper()
	r := exe(t, c.dir, c.env, append([]string{"check", "--json"}, args...)...)
	var rep struct {
		OK     bool         `json:"ok"`
		Checks []jobs.Check `json:"checks"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("check --json: %v\nstdout %s\nstderr %s", err, r.stdout, r.stderr)
	}
	byName := map[string]jobs.Check{}
	for _, c := range rep.Checks {
		byName[c.Job+"/"+c.Name] = c
	}
	return r, byName
}

// wantOnlyFailure asserts exit 1 with exactly one failed check, job/name,
// whose detail holds detail and whose fix holds fix; and that the text
// output names the job, the check and what to set.
func wantOnlyFailure(t *testing.T, c *checkEnv, key, detail, fix string) {
	t.Helper()
	r, checks := checkJSON(t, c)
	if r.code != 1 {
		t.Errorf("exit %d, want 1; stdout %s", r.code, r.stdout)
	}
	for k, ch := range checks {
		if k == key {
			if ch.OK || !strings.Contains(ch.Detail, detail) || !strings.Contains(ch.Fix, fix) {
				t.Errorf("%s: %+v; want a failure saying %q, fix %q", k, ch, detail, fix)
			}
		} else if !ch.OK {
			t.Errorf("%s failed too: %+v", k, ch)
		}
	}
	if _, ok := checks[key]; !ok {
		t.Errorf("no check %s in %v", key, checks)
	}
	job, name, _ := strings.Cut(key, "/")
	text := exe(t, c.dir, c.env, "check")
	line := ""
	for _, l := range strings.Split(text.stdout, "\n") {
		if strings.HasPrefix(l, job+" ") && strings.Contains(l, name) && strings.Contains(l, "FAIL") {
			line = l
		}
	}
	if text.code != 1 || line == "" || !strings.Contains(text.stdout, "→ "+fix[:min(len(fix), 20)]) {
		t.Errorf("check (text): exit %d, stdout:\n%s\nwant a FAIL line for %s %s and what to set", text.code, text.stdout, job, name)
	}
}

// nothingWritten asserts the folder holds only what the test put there: no
// database, no destination folder, no probe.
func nothingWritten(t *testing.T, c *checkEnv) {
	t.Helper()
	got := strings.Join(entries(t, c.dir), " ")
	if got != "ghsync.yaml smtp-ca.pem uploads" {
		t.Errorf("check wrote into its folder: %s", got)
	}
	if up := entries(t, filepath.Join(c.dir, "uploads")); len(up) != 0 {
		t.Errorf("check left %v in the watched folder", up)
	}
}

// A working configuration: every check passes (GitHub access with the
// rate limit left, the folders, SMTP sign-in, the database to be
// created), exit 0, and nothing is written.
func TestCheckWorkingConfig(t *testing.T) {
	c := newCheckEnv(t, "mailpass", "sqlite://./data/ghsync.db")
	r, checks := checkJSON(t, c)
	if r.code != 0 {
		t.Errorf("exit %d, want 0\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	for _, key := range []string{"site/github source", "site/store dest", "uploads/github issues", "uploads/email smtp", "uploads/store watch", "uploads/database"} {
		ch, ok := checks[key]
		if !ok || !ch.OK {
			t.Errorf("%s: %+v (present %v)", key, ch, ok)
		}
	}
	if d := checks["site/github source"].Detail; !strings.Contains(d, "GITHUB_TOKEN") || !strings.Contains(d, "rate limit") {
		t.Errorf("github check does not say where the token came from and the rate limit: %q", d)
	}
	if d := checks["uploads/email smtp"].Detail; !strings.Contains(d, "signed in as mailer") {
		t.Errorf("smtp check: %q", d)
	}
	if n := len(c.smtp.Mails()); n != 0 {
		t.Errorf("check sent %d mails", n)
	}
	nothingWritten(t, c)
}

// A wrong token: the GitHub checks of both jobs name the token's source
// and what to set; exit 1.
func TestCheckWrongToken(t *testing.T) {
	c := newCheckEnv(t, "mailpass", "sqlite://./data/ghsync.db")
	c.env["GITHUB_TOKEN"] = "ghp_wrong"
	r, checks := checkJSON(t, c)
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	for _, key := range []string{"site/github source", "uploads/github issues"} {
		ch := checks[key]
		if ch.OK || !strings.Contains(ch.Detail, "401") || !strings.Contains(ch.Detail, "GITHUB_TOKEN") || !strings.Contains(ch.Fix, "set GITHUB_TOKEN") {
			t.Errorf("%s: %+v; want a 401 naming GITHUB_TOKEN and what to set", key, ch)
		}
	}
	nothingWritten(t, c)
}

// A wrong SMTP password: the inbox's email check fails (the server refused
// the sign-in), naming email.via; no mail is sent.
func TestCheckWrongSMTPPassword(t *testing.T) {
	c := newCheckEnv(t, "nope", "sqlite://./data/ghsync.db")
	wantOnlyFailure(t, c, "uploads/email smtp", "smtp://mailer:xxxxx@", "set email.via")
	if n := len(c.smtp.Mails()); n != 0 {
		t.Errorf("check sent %d mails", n)
	}
	nothingWritten(t, c)
}

// An unreachable database: the inbox's database check fails naming the
// database (without its password) and what to set.
func TestCheckUnreachableDatabase(t *testing.T) {
	c := newCheckEnv(t, "mailpass", "postgres://ghsync:secret@127.0.0.1:1/ghsync?sslmode=disable")
	wantOnlyFailure(t, c, "uploads/database", "is not reachable", "set database:")
	r := exe(t, c.dir, c.env, "check", "uploads")
	if strings.Contains(r.stdout+r.stderr, "secret") {
		t.Errorf("the database password is shown:\n%s%s", r.stdout, r.stderr)
	}
	nothingWritten(t, c)
}
