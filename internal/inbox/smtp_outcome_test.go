package inbox

import (
	"context"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/faultproxy"
)

// smtpThroughProxy points the job's email at a fault proxy in front of the
// test SMTP server that injects kind into every message.
func smtpThroughProxy(t *testing.T, e *env, kind faultproxy.Kind) {
	t.Helper()
	up := e.smtp.ClientTLS.Clone()
	up.ServerName = e.smtp.Host
	p, err := faultproxy.NewSMTP(e.smtp.Addr, faultproxy.SMTPConfig{Seed: 1, Rates: faultproxy.Rates{kind: 1},
		ServerTLS: e.smtp.ServerTLS, UpstreamTLS: up})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e.cfg.Email.Via = "smtp://mailer:" + smtpPass + "@" + p.Addr
}

func emailAction(t *testing.T, res *Result) ActionResult {
	t.Helper()
	for _, a := range res.Actions {
		if a.Action == ActionEmail {
			return a
		}
	}
	t.Fatalf("no email action in %+v", res.Actions)
	return ActionResult{}
}

// messageIDOf returns the Message-ID header of a received message.
func messageIDOf(raw []byte) string {
	for _, l := range strings.Split(string(raw), "\r\n") {
		if v, ok := strings.CutPrefix(l, "Message-ID: "); ok {
			return v
		}
	}
	return ""
}

// TestSMTPLostAnswerResendsTheSameMessage: the server accepts the message,
// then the connection drops before its answer reaches ghsync. The outcome
// is unknown, so the action fails and the next run sends it again — as the
// same message (same Message-ID), which receivers can drop as a duplicate.
func TestSMTPLostAnswerResendsTheSameMessage(t *testing.T) {
	e := newEnv(t)
	direct := e.cfg.Email.Via
	smtpThroughProxy(t, e, faultproxy.ActedReset)
	e.upload("incomplete.csv", "f.csv")
	res, _ := ProcessSet(context.Background(), e.deps, e.cfg, setPrefix, RunOptions{})
	if a := emailAction(t, res); a.Status != StatusFailed {
		t.Errorf("email action = %s %q; want failed (the answer was lost)", a.Status, a.Detail)
	}
	e.cfg.Email.Via = direct
	if _, err := ProcessSet(context.Background(), e.deps, e.cfg, setPrefix, RunOptions{}); err != nil {
		t.Fatalf("second run: %v", err)
	}
	mails := e.smtp.Mails()
	if len(mails) != 2 {
		t.Fatalf("%d emails delivered; want 2 (the one whose answer was lost, and the resend)", len(mails))
	}
	a, b := messageIDOf(mails[0].Raw), messageIDOf(mails[1].Raw)
	if a == "" || a != b || !strings.HasPrefix(a, "<ghsync.") {
		t.Errorf("Message-IDs %q and %q; want the same stable ghsync ID for the resend", a, b)
	}
	// A new upload of the set is a new message.
	e.upload("incomplete.csv", "f.csv")
	if _, err := ProcessSet(context.Background(), e.deps, e.cfg, setPrefix, RunOptions{}); err != nil {
		t.Fatalf("third run: %v", err)
	}
	if mails = e.smtp.Mails(); len(mails) != 3 || messageIDOf(mails[2].Raw) == a {
		t.Errorf("new upload: %d mails, Message-ID %q; want a third mail with a new ID", len(mails), messageIDOf(mails[len(mails)-1].Raw))
	}
}

// TestSMTPCutBeforeTheEndIsRetried: a connection cut while the message is
// still being sent cannot have delivered it: the action fails and the next
// run sends it, once.
func TestSMTPCutBeforeTheEndIsRetried(t *testing.T) {
	e := newEnv(t)
	direct := e.cfg.Email.Via
	smtpThroughProxy(t, e, faultproxy.DropMidData)
	e.upload("incomplete.csv", "f.csv")
	res, _ := ProcessSet(context.Background(), e.deps, e.cfg, setPrefix, RunOptions{})
	if a := emailAction(t, res); a.Status != StatusFailed {
		t.Errorf("email action = %s %q; want failed", a.Status, a.Detail)
	}
	if n := len(e.smtp.Mails()); n != 0 {
		t.Fatalf("%d emails delivered from a cut message; want 0", n)
	}
	e.cfg.Email.Via = direct
	if _, err := ProcessSet(context.Background(), e.deps, e.cfg, setPrefix, RunOptions{}); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if n := len(e.smtp.Mails()); n != 1 {
		t.Fatalf("%d emails after the retry; want 1", n)
	}
}
