package inbox

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/inbox/inboxtest"
)

func TestCallbackRetriesOn5xx(t *testing.T) {
	e := newEnv(t)
	e.cb.FailFirst(2, http.StatusBadGateway)
	e.upload("incomplete.csv", "x.csv")
	res := e.process(setPrefix, RunOptions{})
	a := findAction(t, res, ActionCallback)
	if a.Status != StatusDone || a.Detail != "3 attempt(s)" {
		t.Errorf("callback = %+v; want done after 3 attempts", a)
	}
	if n := len(e.cb.Requests()); n != 3 {
		t.Errorf("callback requests = %d; want 3", n)
	}
}

func TestCallbackGivesUpOn4xxAndReportsIt(t *testing.T) {
	e := newEnv(t)
	e.cb.Reply(http.StatusForbidden, `{"detail":"no"}`)
	e.upload("incomplete.csv", "x.csv")
	res, err := ProcessSet(context.Background(), e.deps, e.cfg, setPrefix, RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("err = %v; want the 403 named", err)
	}
	if n := len(e.cb.Requests()); n != 1 {
		t.Errorf("callback requests = %d; want 1 (no retry on 4xx)", n)
	}
	if a := findAction(t, res, ActionCallback); a.Status != StatusFailed {
		t.Errorf("callback = %+v; want failed", a)
	}
}

func TestDryRunPerformsNothing(t *testing.T) {
	for _, file := range []string{"idox_eros.csv", "incomplete.csv"} {
		e := newEnv(t)
		e.upload(file, "f.csv")
		res := e.process(setPrefix+"f.csv", RunOptions{DryRun: true})
		if len(e.finalKeys()) != 0 || len(e.gh.Issues("DemocracyClub", "UK-Polling-Stations")) != 0 ||
			len(e.smtp.Mails()) != 0 || len(e.cb.Requests()) != 0 {
			t.Errorf("%s: dry run acted: final %q, mails %d, callbacks %d", file, e.finalKeys(), len(e.smtp.Mails()), len(e.cb.Requests()))
		}
		for _, a := range res.Actions {
			if a.Action != ActionEnrich && a.Status != StatusDryRun && a.Status != StatusSkipped {
				t.Errorf("%s: action %+v in a dry run", file, a)
			}
		}
		if cb := findAction(t, res, ActionCallback); cb.Payload == nil {
			t.Errorf("%s: dry-run callback shows no payload", file)
		}
		if _, found, _ := e.ledger.Get(context.Background(), "wdiv", setPrefix); found {
			t.Errorf("%s: dry run recorded the set", file)
		}
	}
}

func TestMissingCredentialsLogWhatWouldBeSent(t *testing.T) {
	e := newEnv(t)
	e.cfg.Callback.Token = ""
	e.deps.GitHub = nil
	e.upload("idox_eros.csv", "f.csv")
	res := e.process(setPrefix, RunOptions{})
	for _, kind := range []string{ActionGitHub, ActionCallback} {
		if a := findAction(t, res, kind); a.Status != StatusNoCredential || a.Payload == nil {
			t.Errorf("%s = %+v; want no-credential with the payload", kind, a)
		}
	}
	if len(e.cb.Requests()) != 0 || len(e.gh.Issues("DemocracyClub", "UK-Polling-Stations")) != 0 {
		t.Error("an action without its credential was performed")
	}
	logs := e.logs.String()
	for _, want := range []string{`"action":"github"`, "Import E07000223-Example Council for 2026-05-07", `"action":"callback"`, `\"csv_rows\":41`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s", want)
		}
	}
}

func TestEnrichmentFallsBackToGroup(t *testing.T) {
	e := newEnv(t)
	e.names.Reply(http.StatusNotFound, `{}`)
	e.upload("incomplete.csv", "f.csv")
	res := e.process(setPrefix, RunOptions{})
	if res.Report.Name != "E07000223" {
		t.Errorf("name = %q; want the group code", res.Report.Name)
	}
	if m := e.smtp.Mails(); len(m) != 1 || m[0].Subject != "Error with data for council E07000223-E07000223" {
		t.Errorf("mails = %+v", m)
	}
}

func TestSentryReceivesActionFailures(t *testing.T) {
	e := newEnv(t)
	sentry := inboxtest.StartEndpoint(t)
	e.cfg.SentryDSN = strings.Replace(sentry.URL, "http://", "http://"+sentryKey+"@", 1) + "/42"
	e.cb.Reply(http.StatusForbidden, "no")
	e.upload("incomplete.csv", "f.csv")
	if _, err := ProcessSet(context.Background(), e.deps, e.cfg, setPrefix, RunOptions{}); err == nil {
		t.Fatal("no error for a failed callback")
	}
	reqs := sentry.Requests()
	if len(reqs) == 0 {
		t.Fatal("Sentry endpoint received nothing (the client must flush before ProcessSet returns)")
	}
	if !strings.Contains(reqs[0].Path, "/api/42/") || !bytes.Contains(reqs[0].Body, []byte("callback")) {
		t.Errorf("Sentry request %s: %.300s", reqs[0].Path, reqs[0].Body)
	}
}

func TestEmailBySESOnMoto(t *testing.T) {
	moto := inboxtest.StartMoto(t)
	e := newEnv(t)
	moto.VerifySES(t, "eu-west-2", "pollingstations@example.org")
	e.cfg.Email.Via = "ses://?region=eu-west-2&endpoint=" + moto.URL
	e.upload("incomplete.csv", "f.csv")
	e.process(setPrefix, RunOptions{})
	msgs := moto.SESMessages(t)
	if len(msgs) != 1 {
		t.Fatalf("SES messages = %d; want 1", len(msgs))
	}
	m := msgs[0]
	if m.Source != "pollingstations@example.org" || m.Subject != "Error with data for council E07000223-Example Council" ||
		!strings.Contains(m.Body, "Incomplete file: Expected 4 columns on row 32 found 2") ||
		len(m.Destinations["ToAddresses"]) != 1 || m.Destinations["ToAddresses"][0] != "errors@example.org" {
		t.Errorf("SES message = %+v", m)
	}
	if len(e.smtp.Mails()) != 0 {
		t.Error("SMTP used although via is ses://")
	}
}

func TestSMTPWrongPasswordFails(t *testing.T) {
	e := newEnv(t)
	e.cfg.Email.Via = "smtp://mailer:wrong" + smtpPass + "@" + e.smtp.Addr
	e.upload("incomplete.csv", "f.csv")
	_, err := ProcessSet(context.Background(), e.deps, e.cfg, setPrefix, RunOptions{})
	if err == nil || e.smtp.AuthFailures() == 0 {
		t.Fatalf("err = %v, auth failures %d; want an email error after a refused AUTH", err, e.smtp.AuthFailures())
	}
	if strings.Contains(err.Error(), smtpPass) {
		t.Errorf("error shows the password: %v", err)
	}
}

// TestNoSecretsAnywhere runs passing and failing sets (and failing actions)
// at debug level and greps logs, errors and results for every secret.
func TestNoSecretsAnywhere(t *testing.T) {
	e := newEnv(t)
	sentry := inboxtest.StartEndpoint(t)
	e.cfg.SentryDSN = strings.Replace(sentry.URL, "http://", "http://"+sentryKey+"@", 1) + "/1"
	e.cfg.GitHub.Token = ghToken
	var out bytes.Buffer
	run := func(opts RunOptions) {
		res, err := ProcessSet(context.Background(), e.deps, e.cfg, setPrefix, opts)
		if err != nil {
			out.WriteString(err.Error())
		}
		b, _ := json.Marshal(res)
		out.Write(b)
	}
	e.upload("idox_eros.csv", "a.csv")
	run(RunOptions{})
	run(RunOptions{DryRun: true})
	e.upload("incomplete.csv", "b.csv")
	run(RunOptions{})
	e.cfg.Email.Via = "smtp://mailer:bad" + smtpPass + "@" + e.smtp.Addr
	e.cb.Reply(http.StatusInternalServerError, "down")
	e.cfg.Callback.Attempts = 2
	run(RunOptions{})
	e.cfg.Email.Via = "smtp://mailer:" + smtpPass + "@127.0.0.1:1"
	run(RunOptions{})
	out.Write(e.logs.Bytes())
	cfgJSON, _ := json.Marshal(e.cfg)
	out.Write(cfgJSON)
	for _, secret := range []string{ghToken, smtpPass, cbToken, sentryKey} {
		if bytes.Contains(out.Bytes(), []byte(secret)) {
			i := bytes.Index(out.Bytes(), []byte(secret))
			t.Errorf("secret %q appears: …%s…", secret, out.Bytes()[max(0, i-200):min(out.Len(), i+50)])
		}
	}
	if !strings.Contains(e.logs.String(), "inbox: action") {
		t.Error("no action log lines captured (the grep would prove nothing)")
	}
}

func findAction(t *testing.T, res *Result, kind string) ActionResult {
	t.Helper()
	for _, a := range res.Actions {
		if a.Action == kind {
			return a
		}
	}
	t.Fatalf("no %s action in %+v", kind, res.Actions)
	return ActionResult{}
}

var _ = time.Second
