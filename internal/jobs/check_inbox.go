package jobs

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/inbox"
	"github.com/ghsync/ghsync/internal/slogx"
)

// Preflight implements Preflighter: the GitHub repository issues are
// raised in, the email sender (SMTP: connects, STARTTLS and signs in
// without sending; SES: AWS credentials found), the callback and
// enrichment endpoints reachable. The stores and database come from Needs.
func (inboxKind) Preflight(ctx context.Context, env *Env, job *config.Job, _ CheckOptions) []Check {
	s := InboxOf(job)
	var out []Check
	if g := s.GitHub; g != nil && g.Repo != "" {
		owner, repo, _ := strings.Cut(g.Repo, "/")
		if _, found := env.githubCredential(); !found && g.Token == "" {
			out = append(out, checkFail("github issues", "no GitHub credentials: issues in "+g.Repo+" would not be raised (not performed)", githubFix))
		} else {
			out = append(out, checkGitHub(ctx, env, owner, repo, "issues"))
		}
	}
	if e := s.Email; e != nil && e.Via != "" {
		out = append(out, checkEmail(ctx, env, e.Via))
	}
	if c := s.Callback; c != nil && c.URL != "" {
		out = append(out, checkEndpoint(ctx, "callback", c.URL, "callback.url"))
	}
	if e := s.Enrich; e != nil && e.URL != "" {
		out = append(out, checkEndpoint(ctx, "enrich", e.URL, "enrich.url"))
	}
	return out
}

// checkEmail checks an inbox's email.via without sending anything.
func checkEmail(ctx context.Context, env *Env, via string) Check {
	u, err := url.Parse(via)
	if err != nil {
		return checkFail("email", "email.via is not a URL", "set email.via to smtp://USER:PASSWORD@HOST:PORT, smtps://… or ses://?region=R")
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if u.Scheme == "ses" {
		lo := []func(*awsconfig.LoadOptions) error{awsconfig.WithLogger(slogx.AWS(env.Logger))}
		if r := u.Query().Get("region"); r != "" {
			lo = append(lo, awsconfig.WithRegion(r))
		}
		cfg, err := awsconfig.LoadDefaultConfig(ctx, lo...)
		if err != nil {
			return checkFail("email ses", "AWS configuration: "+err.Error(), "set AWS_REGION or email.via's ?region=")
		}
		c, err := cfg.Credentials.Retrieve(ctx)
		if err != nil || !c.HasKeys() {
			return checkFail("email ses", "no AWS credentials for SES: failure emails would not be sent",
				"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or an IAM role with ses:SendEmail), or set email.via to an SMTP server")
		}
		return checkOK("email ses", fmt.Sprintf("Amazon SES in %s with AWS credentials from %s", cfg.Region, c.Source))
	}
	where := u.Redacted()
	fix := "set email.via to smtp://USER:PASSWORD@HOST:PORT with the SMTP server's user and password"
	signIn := "no sign-in (no user in email.via)"
	if u.User != nil {
		signIn = "signed in as " + u.User.Username()
	}
	c, err := inbox.NewSMTPClient(u, checkTimeout, nil)
	if err != nil {
		return checkFail("email smtp", where+": "+err.Error(), fix)
	}
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return checkFail("email smtp", where+": "+err.Error(), fix)
	}
	_ = c.CloseWithSMTPClient(sc)
	return checkOK("email smtp", where+": connected over TLS, "+signIn+" (nothing sent)")
}

// checkEndpoint checks that an HTTP endpoint's host accepts connections
// (nothing is requested from it).
func checkEndpoint(ctx context.Context, name, raw, key string) Check {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return checkFail(name, key+" is not a URL", "set "+key+" to the endpoint's https:// URL")
	}
	host := u.Hostname()
	if strings.ContainsAny(host, "{}") {
		return checkOK(name, u.Redacted()+": a template (not checked)")
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return checkFail(name, fmt.Sprintf("%s://%s is not reachable: %v", u.Scheme, u.Host, err), "set "+key+" to an endpoint this machine can reach")
	}
	_ = conn.Close()
	return checkOK(name, fmt.Sprintf("%s://%s accepts connections", u.Scheme, u.Host))
}
