package inbox

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
)

// emailPayload is what the email action sends.
type emailPayload struct {
	From    string   `json:"from"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Body    string   `json:"body"`
}

// email sends the failure email of a failed set, unless the set rule
// suppressed it (a lone first file of a pair).
func (j *job) email(ctx context.Context, deps *Deps, rep *Report, opts RunOptions) ActionResult {
	e := j.cfg.Email
	if len(rep.Files) == 1 && rep.Files[0].suppressEmail {
		return ActionResult{Action: ActionEmail, Status: StatusSkipped,
			Detail: "the set's only problem is a missing file that is expected to follow"}
	}
	if e == nil || len(e.To) == 0 {
		return ActionResult{Action: ActionEmail, Status: StatusNoCredential, Detail: "email.to is not set: no email sent",
			Payload: j.emailPayload(rep)}
	}
	a := ActionResult{Action: ActionEmail, Target: strings.Join(e.To, ", ")}
	p := j.emailPayload(rep)
	if opts.DryRun {
		a.Status, a.Payload = StatusDryRun, p
		return a
	}
	var err error
	switch j.via.Scheme {
	case "ses":
		cfg, found, cerr := sesConfig(ctx, deps, j.via)
		if cerr == nil && !found {
			// As for GitHub and the callback: a missing credential is "not
			// performed", recorded as such and not retried every run.
			a.Status, a.Payload = StatusNoCredential, p
			a.Detail = "no AWS credentials for SES (AWS_ACCESS_KEY_ID, AWS_PROFILE or a role): email not sent"
			return a
		}
		err = cerr
		var id string
		if err == nil {
			id, err = sendSES(ctx, cfg, j.via, p)
		}
		a.Detail = "sent with Amazon SES (message id " + id + ")"
	default:
		err = sendSMTP(ctx, deps, j.via, p, Fingerprint(rep.Files))
		a.Detail = "sent by SMTP to " + j.via.Host
	}
	if err != nil {
		a.Status, a.Error, a.Detail = StatusFailed, err.Error(), ""
		return a
	}
	a.Status, a.Payload = StatusDone, p
	return a
}

func (j *job) emailPayload(rep *Report) emailPayload {
	vars := templateVars(rep)
	p := emailPayload{To: []string{}}
	if e := j.cfg.Email; e != nil {
		p.From, p.To = e.From, append(p.To, e.To...)
	}
	if j.subject != nil {
		p.Subject, p.Body = j.subject.Render(vars), j.emailBody.Render(vars)
	} else {
		p.Subject, p.Body = mustRender(DefaultEmailSubject, vars), mustRender(DefaultEmailBody, vars)
	}
	return p
}

func mustRender(src string, vars map[string]string) string {
	t, err := ParseTemplate(src, nil)
	if err != nil {
		return src
	}
	return t.Render(vars)
}

// NewSMTPClient returns the go-mail client for an email.via SMTP URL:
// smtp:// requires STARTTLS (port 587 by default), smtps:// is TLS from the
// start (465); AUTH with the URL's user and password when present. tlsConf,
// when set, replaces the system's roots (tests); its ServerName defaults
// to the URL's host. The error says what is wrong without the password.
func NewSMTPClient(via *url.URL, timeout time.Duration, tlsConf *tls.Config) (*mail.Client, error) {
	opts := []mail.Option{mail.WithTimeout(timeout)}
	port := via.Port()
	if via.Scheme == "smtps" {
		opts = append(opts, mail.WithSSL())
		if port == "" {
			port = "465"
		}
	} else {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
		if port == "" {
			port = "587"
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("bad port %q", port)
	}
	opts = append(opts, mail.WithPort(n))
	if tlsConf != nil {
		tc := tlsConf.Clone()
		if tc.ServerName == "" {
			tc.ServerName = via.Hostname()
		}
		opts = append(opts, mail.WithTLSConfig(tc))
	}
	if via.User != nil {
		pw, _ := via.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(via.User.Username()), mail.WithPassword(pw))
	}
	return mail.NewClient(via.Hostname(), opts...)
}

// sendSMTP delivers p over SMTP (NewSMTPClient says how it connects).
func sendSMTP(ctx context.Context, deps *Deps, via *url.URL, p emailPayload, fingerprint string) error {
	where := redactURL(via)
	c, err := NewSMTPClient(via, 30*time.Second, deps.SMTPTLS)
	if err != nil {
		return fmt.Errorf("email via %s: %w", where, err)
	}
	m := mail.NewMsg()
	if err := m.From(p.From); err != nil {
		return fmt.Errorf("email from %q: %w", p.From, err)
	}
	if err := m.To(p.To...); err != nil {
		return fmt.Errorf("email to %v: %w", p.To, err)
	}
	m.Subject(p.Subject)
	m.SetMessageIDWithValue(messageID(p, fingerprint))
	m.SetBodyString(mail.TypeTextPlain, p.Body)
	if err := smtpOutcome(m, c.DialAndSendWithContext(ctx, m)); err != nil {
		return fmt.Errorf("email via %s: %w", where, err)
	}
	return nil
}
