// Package fakeapis serves the project's test fakes as one local process, so
// that the configurations in examples/ run on a laptop without any cloud
// account: GitHub (internal/githubtest, held to GitHub's OpenAPI
// description, with the repositories the examples name), Airtable and Badgr
// (internal/apisync/apisynctest) and an SMTP catcher with STARTTLS
// (internal/inbox/inboxtest). It is test code, never in the ghsync binary:
// scripts/fakeapis.sh builds this package's test binary and runs TestServe
// with GHSYNC_FAKEAPIS_DIR set; without it, TestServe checks the seed.
package fakeapis

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/apisync/apisynctest"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/inbox/inboxtest"
)

// The fixed, test-only credentials the fakes accept (the exports name them).
const (
	githubToken   = "ghp_local"
	airtableToken = "patLOCAL"
	airtableBase  = "appAAAAAAAAAAAAAA"
	badgrUser     = "ops@example.com"
	badgrPassword = "local"
	badgrIssuer   = "ISSUER1"
	smtpUser      = "mailer"
	smtpPassword  = "mailpass"
)

// EnvServeDir names the folder TestServe writes its exports to and serves
// until stopped; unset, TestServe only checks the seeded fakes.
const EnvServeDir = "GHSYNC_FAKEAPIS_DIR"

// fakes are the running servers.
type fakes struct {
	gh   *githubtest.Server
	at   *apisynctest.Airtable
	bg   *apisynctest.Badgr
	smtp *inboxtest.SMTPServer
}

func TestServe(t *testing.T) {
	f := start(t)
	dir := os.Getenv(EnvServeDir)
	if dir == "" {
		check(t, f)
		return
	}
	if err := os.MkdirAll(filepath.Join(dir, "mail"), 0o755); err != nil {
		t.Fatal(err)
	}
	exports, err := f.writeFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The env file appears last and whole: the script waits for it.
	if err := os.WriteFile(filepath.Join(dir, "env.tmp"), []byte(exports), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "env.tmp"), filepath.Join(dir, "env")); err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	f.catchMail(ctx, filepath.Join(dir, "mail"))
	// Contract violations found while serving are reported by the fake's
	// cleanup (the test fails, and the log says which request).
}

// start starts every fake with the examples' data.
func start(t *testing.T) *fakes {
	f := &fakes{gh: githubtest.New(t, githubtest.Options{})}
	f.gh.Token = githubToken
	seedGitHub(f.gh)
	f.at = apisynctest.NewAirtable(t, airtableToken)
	f.at.SetRecords(airtableBase, "Assessments", assessments)
	f.bg = apisynctest.NewBadgr(t, badgrUser, badgrPassword)
	f.bg.SetBadgeClasses(badgrIssuer, badgeClasses)
	f.bg.SetAssertions(badgrIssuer, assertions)
	f.smtp = inboxtest.StartSMTP(t, smtpUser, smtpPassword)
	return f
}

// writeFiles writes the App key and the SMTP server's certificate into dir
// and returns the shell exports that point ghsync at the fakes.
func (f *fakes) writeFiles(dir string) (string, error) {
	key := filepath.Join(dir, "github-app.pem")
	if err := os.WriteFile(key, f.gh.AppPrivateKeyPEM, 0o600); err != nil {
		return "", fmt.Errorf("write the App key: %w", err)
	}
	ca := filepath.Join(dir, "smtp-ca.pem")
	if err := os.WriteFile(ca, f.smtp.CAPEM, 0o644); err != nil {
		return "", fmt.Errorf("write the SMTP certificate: %w", err)
	}
	var b strings.Builder
	for _, kv := range [][2]string{
		{"GITHUB_API_URL", f.gh.URL},
		{"GITHUB_TOKEN", githubToken},
		{"GHSYNC_FAKE_GITHUB_APP_ID", fmt.Sprint(f.gh.AppID)},
		{"GHSYNC_FAKE_GITHUB_APP_KEY", key},
		{"AIRTABLE_API_URL", f.at.URL()},
		{"AIRTABLE_TOKEN", airtableToken},
		{"AIRTABLE_BASE_ID", airtableBase},
		{"BADGR_API_URL", f.bg.URL()},
		{"BADGR_USERNAME", badgrUser},
		{"BADGR_PASSWORD", badgrPassword},
		{"BADGR_ISSUER_ID", badgrIssuer},
		{"EMAIL_VIA", "smtp://" + smtpUser + ":" + smtpPassword + "@" + f.smtp.Addr},
		{"SSL_CERT_FILE", ca},
		{"GHSYNC_FAKE_MAIL_DIR", filepath.Join(dir, "mail")},
	} {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], kv[1])
	}
	return b.String(), nil
}

// catchMail writes each message the SMTP catcher accepts to dir/N.eml
// until ctx is done.
func (f *fakes) catchMail(ctx context.Context, dir string) {
	written := 0
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, m := range f.smtp.Mails()[written:] {
			written++
			_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.eml", written)), m.Raw, 0o644)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// check asks each fake for what the examples read.
func check(t *testing.T, f *fakes) {
	get := func(url, auth string) int {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", auth)
		req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if strings.HasPrefix(url, f.at.URL()) {
			var page struct{ Records []json.RawMessage }
			_ = json.NewDecoder(resp.Body).Decode(&page)
			if len(page.Records) != len(assessments) {
				t.Errorf("airtable: %d records, want %d", len(page.Records), len(assessments))
			}
		}
		return resp.StatusCode
	}
	for _, repo := range []string{"acme/site", "acme/templates", "acme/app", "acme/docs", "brn-org/python-tpl"} {
		if c := get(f.gh.URL+"repos/"+repo, "token "+githubToken); c != http.StatusOK {
			t.Errorf("GET /repos/%s: %d", repo, c)
		}
	}
	if c := get(f.gh.URL+"repos/acme/templates/releases/latest", "token "+githubToken); c != http.StatusOK {
		t.Errorf("acme/templates has no latest release: %d", c)
	}
	if c := get(f.gh.URL+"repos/acme/site", "token wrong"); c != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d, want 401", c)
	}
	if c := get(f.at.URL()+"/v0/"+airtableBase+"/Assessments", "Bearer "+airtableToken); c != http.StatusOK {
		t.Errorf("airtable: %d", c)
	}
	dir := t.TempDir()
	exports, err := f.writeFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"GITHUB_API_URL=http://127.0.0.1:", "EMAIL_VIA=smtp://mailer:mailpass@127.0.0.1:", "SSL_CERT_FILE=" + dir} {
		if !strings.Contains(exports, "export "+k) {
			t.Errorf("exports lack %s:\n%s", k, exports)
		}
	}
}
