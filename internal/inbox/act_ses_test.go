package inbox

import (
	"context"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/faultproxy"
	"github.com/ghsync/ghsync/internal/inbox/inboxtest"
)

// sesEnv is an env whose email goes to moto's SES (sender verified) through
// a fault proxy, so tests can lose SES's answers.
func sesEnv(t *testing.T, rates faultproxy.Rates) (*env, *inboxtest.Moto, *faultproxy.Proxy) {
	t.Helper()
	moto := inboxtest.StartMoto(t)
	e := newEnv(t)
	moto.VerifySES(t, "eu-west-2", e.cfg.Email.From)
	p, err := faultproxy.NewHTTP(moto.URL, faultproxy.Config{Seed: 1, Rates: rates})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e.cfg.Email.Via = "ses://?region=eu-west-2&endpoint=" + p.URL
	return e, moto, p
}

// TestSESLostAnswerSendsTheSameMessageAgain: SES accepts the message but
// its answer is lost (a proxy answers 502 instead). The call is retried
// (AWS_MAX_ATTEMPTS) and fails, and the next run sends the email again: at
// least once, never lost, each copy the same message. The run that sends it
// records SES's message id.
func TestSESLostAnswerSendsTheSameMessageAgain(t *testing.T) {
	e, moto, p := sesEnv(t, faultproxy.Rates{faultproxy.Acted: 1})
	t.Setenv("AWS_MAX_ATTEMPTS", "2")
	e.upload("incomplete.csv", "f.csv")
	res, err := ProcessSet(context.Background(), e.deps, e.cfg, setPrefix, RunOptions{SkipUnchanged: true})
	a := emailAction(t, res)
	if err == nil || a.Status != StatusFailed || !strings.Contains(a.Error, "after 2 attempts: HTTP 502") {
		t.Fatalf("email action = %s %q (run error %v); want failed after 2 attempts of HTTP 502", a.Status, a.Error, err)
	}
	p.SetEnabled(false)
	res = e.process(setPrefix, RunOptions{SkipUnchanged: true})
	a = emailAction(t, res)
	if a.Status != StatusDone || !strings.HasPrefix(a.Detail, "sent with Amazon SES (message id ") || strings.HasSuffix(a.Detail, "id )") {
		t.Errorf("second run: email action = %s %q; want done with SES's message id", a.Status, a.Detail)
	}
	msgs := moto.SESMessages(t)
	if len(msgs) != 3 {
		t.Fatalf("SES accepted %d messages; want 3 (two attempts whose answer was lost, then the next run's)", len(msgs))
	}
	for i, m := range msgs {
		if m.Source != e.cfg.Email.From || m.Subject != "Error with data for council E07000223-Example Council" ||
			!strings.Contains(m.Body, "Incomplete file: Expected 4 columns on row 32 found 2") ||
			strings.Join(m.Destinations["ToAddresses"], ",") != "errors@example.org" {
			t.Errorf("SES message %d: %+v", i, m)
		}
		if m.Body != msgs[0].Body {
			t.Errorf("SES message %d differs from the first", i)
		}
	}
}

// TestSESRejectionFailsWithTheAWSCode: SES refusing the message (moto, like
// SES in its sandbox, refuses an unverified sender) fails the action and
// the run with SES's error code and message; once the sender is verified
// the next run sends it.
func TestSESRejectionFailsWithTheAWSCode(t *testing.T) {
	e, moto, _ := sesEnv(t, nil)
	e.cfg.Email.From = "unverified@example.org"
	e.upload("incomplete.csv", "f.csv")
	res, err := ProcessSet(context.Background(), e.deps, e.cfg, setPrefix, RunOptions{SkipUnchanged: true})
	a := emailAction(t, res)
	const want = "email via SES (region eu-west-2) SendEmail: HTTP 400 MessageRejected: Email address not verified unverified@example.org"
	if err == nil || a.Status != StatusFailed || !strings.HasPrefix(a.Error, want) {
		t.Fatalf("email action = %s %q (run error %v); want failed with %q", a.Status, a.Error, err, want)
	}
	if n := len(moto.SESMessages(t)); n != 0 {
		t.Fatalf("SES accepted %d messages from an unverified sender", n)
	}
	moto.VerifySES(t, "eu-west-2", e.cfg.Email.From)
	res = e.process(setPrefix, RunOptions{SkipUnchanged: true})
	if a := emailAction(t, res); a.Status != StatusDone {
		t.Errorf("second run: email action = %s %q; want done", a.Status, a.Error)
	}
	if msgs := moto.SESMessages(t); len(msgs) != 1 || msgs[0].Source != "unverified@example.org" {
		t.Errorf("SES messages %+v; want one from the now verified sender", msgs)
	}
}

// TestSESWithoutCredentialsIsNotPerformed: with no AWS credentials anywhere
// the email is "not performed" (its payload shown), nothing reaches SES and
// the next poll does not try again.
func TestSESWithoutCredentialsIsNotPerformed(t *testing.T) {
	e, moto, p := sesEnv(t, nil)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	e.upload("incomplete.csv", "f.csv")
	res := e.process(setPrefix, RunOptions{SkipUnchanged: true})
	if a := emailAction(t, res); a.Status != StatusNoCredential || a.Payload == nil || !strings.Contains(a.Detail, "no AWS credentials for SES") {
		t.Errorf("email action = %+v; want no-credential with the payload", a)
	}
	res = e.process(setPrefix, RunOptions{SkipUnchanged: true})
	if !res.Skipped {
		t.Errorf("second run: %+v; want the set skipped (a missing credential is not retried)", res)
	}
	if n := len(p.Decisions()); n != 0 || len(moto.SESMessages(t)) != 0 {
		t.Errorf("%d requests reached SES without credentials", n)
	}
}
