// Package fakeapis serves the project's test fakes as one local process, so
// that the configurations in examples/ run on a laptop without any cloud
// account: GitHub (internal/githubtest, held to GitHub's OpenAPI
// description, with the repositories the examples name), Airtable and Badgr
// (internal/apisync/apisynctest), an SMTP catcher with STARTTLS
// (internal/inbox/inboxtest) and a Slack webhook catcher for alerts. It is test code, never in the ghsync binary:
// scripts/fakeapis.sh builds this package's test binary and runs TestServe
// with GHSYNC_FAKEAPIS_DIR set (without it, TestServe checks the seed);
// e2e/examples_test.go starts the same fakes in its own process.
package fakeapis

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// Fakes are the running servers.
type Fakes struct {
	GitHub   *githubtest.Server
	Airtable *apisynctest.Airtable
	Badgr    *apisynctest.Badgr
	SMTP     *inboxtest.SMTPServer
	// Alerts records the alerts ghsync posts (a Slack incoming webhook).
	Alerts *httptest.Server

	mu     sync.Mutex
	alerts [][]byte
}

// Start starts every fake with the examples' data; t's cleanup stops them
// (and fails t on any GitHub contract violation).
func Start(t testing.TB) *Fakes {
	f := &Fakes{GitHub: githubtest.New(t, githubtest.Options{})}
	f.GitHub.Token = githubToken
	seedGitHub(f.GitHub)
	f.Airtable = apisynctest.NewAirtable(t, airtableToken)
	f.Airtable.SetRecords(airtableBase, "Assessments", assessments)
	f.Badgr = apisynctest.NewBadgr(t, badgrUser, badgrPassword)
	f.Badgr.SetBadgeClasses(badgrIssuer, badgeClasses)
	f.Badgr.SetAssertions(badgrIssuer, assertions)
	f.SMTP = inboxtest.StartSMTP(t, smtpUser, smtpPassword)
	f.Alerts = httptest.NewServer(http.HandlerFunc(f.alert))
	t.Cleanup(f.Alerts.Close)
	return f
}

// Env writes the App key and the SMTP server's certificate into dir and
// returns the variables that point ghsync at the fakes, in order (the
// exports scripts/fakeapis.sh prints). Mail caught goes to dir/mail
// and alerts to dir/alerts (Catch).
func (f *Fakes) Env(dir string) ([][2]string, error) {
	key := filepath.Join(dir, "github-app.pem")
	if err := os.WriteFile(key, f.GitHub.AppPrivateKeyPEM, 0o600); err != nil {
		return nil, fmt.Errorf("write the App key: %w", err)
	}
	ca := filepath.Join(dir, "smtp-ca.pem")
	if err := os.WriteFile(ca, f.SMTP.CAPEM, 0o644); err != nil {
		return nil, fmt.Errorf("write the SMTP certificate: %w", err)
	}
	return [][2]string{
		{"GITHUB_API_URL", f.GitHub.URL},
		{"GITHUB_TOKEN", githubToken},
		{"GHSYNC_FAKE_GITHUB_APP_ID", fmt.Sprint(f.GitHub.AppID)},
		{"GHSYNC_FAKE_GITHUB_APP_KEY", key},
		{"AIRTABLE_API_URL", f.Airtable.URL()},
		{"AIRTABLE_TOKEN", airtableToken},
		{"AIRTABLE_BASE_ID", airtableBase},
		{"BADGR_API_URL", f.Badgr.URL()},
		{"BADGR_USERNAME", badgrUser},
		{"BADGR_PASSWORD", badgrPassword},
		{"BADGR_ISSUER_ID", badgrIssuer},
		{"EMAIL_VIA", "smtp://" + smtpUser + ":" + smtpPassword + "@" + f.SMTP.Addr},
		{"SSL_CERT_FILE", ca},
		{"SLACK_WEBHOOK_URL", f.Alerts.URL + "/services/T000/B000/local"},
		{"GHSYNC_FAKE_MAIL_DIR", filepath.Join(dir, "mail")},
	}, nil
}

// Exports renders vars as shell export lines.
func Exports(vars [][2]string) string {
	var b strings.Builder
	for _, kv := range vars {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], kv[1])
	}
	return b.String()
}

// alert records one alert post and answers as Slack does.
func (f *Fakes) alert(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.alerts = append(f.alerts, b)
	f.mu.Unlock()
	_, _ = io.WriteString(w, "ok")
}

// Catch writes each message the SMTP catcher accepts to dir/mail/N.eml,
// and each alert posted to dir/alerts/N.json, until ctx is done.
func (f *Fakes) Catch(ctx context.Context, dir string) {
	mail, alerts := filepath.Join(dir, "mail"), filepath.Join(dir, "alerts")
	if os.MkdirAll(mail, 0o755) != nil || os.MkdirAll(alerts, 0o755) != nil {
		return
	}
	written, posted := 0, 0
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, m := range f.SMTP.Mails()[written:] {
			written++
			_ = os.WriteFile(filepath.Join(mail, fmt.Sprintf("%d.eml", written)), m.Raw, 0o644)
		}
		f.mu.Lock()
		todo := f.alerts[posted:]
		f.mu.Unlock()
		for _, b := range todo {
			posted++
			_ = os.WriteFile(filepath.Join(alerts, fmt.Sprintf("%d.json", posted)), b, 0o644)
		}
		if ctx.Err() != nil {
			return // after a last look: a message accepted just before the stop is written too
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}
