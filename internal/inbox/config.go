package inbox

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// Config is one inbox job, as the job-kind registry decodes it from the
// `kind: inbox` entry (YAML keys in the tags). Secrets (github.token,
// email.via's password, callback.token, sentry_dsn) are plain strings here;
// this package never logs or reports them.
type Config struct {
	// Name is the job name: it keys the processed-sets record and appears
	// in logs and errors.
	Name string `yaml:"-" json:"name"`
	// Watch is the store URL (with prefix) uploads land in: s3://bucket/prefix,
	// file:///dir, mem://name, …
	Watch string `yaml:"watch" json:"watch"`
	// Final is the store URL passing sets are copied to; empty: no copy and
	// no report.json.
	Final string `yaml:"final" json:"final,omitempty"`
	// KeyPattern is the key layout (default {group}/{date}/{timestamp}/{file}).
	KeyPattern string `yaml:"key_pattern" json:"key_pattern,omitempty"`
	// Checks is the ordered checks list; nil means DefaultChecks().
	Checks []CheckSpec `yaml:"checks" json:"checks,omitempty"`
	// Format of report.json and the callback body: ghsync (default) or wdiv.
	Format   string          `yaml:"format" json:"format,omitempty"`
	GitHub   *GitHubAction   `yaml:"github" json:"github,omitempty"`
	Email    *EmailAction    `yaml:"email" json:"email,omitempty"`
	Callback *CallbackAction `yaml:"callback" json:"callback,omitempty"`
	Enrich   *EnrichAction   `yaml:"enrich" json:"enrich,omitempty"`
	// Poll is how often serve lists Watch (default 1m); see PollInterval.
	Poll time.Duration `yaml:"poll" json:"poll,omitempty"`
	// MaxAttempts bounds the runs (polls, events) that try a set whose
	// actions failed: each later run performs again only the actions that
	// did not succeed; after MaxAttempts runs the set is given up on until
	// it changes. 0 means DefaultMaxAttempts.
	MaxAttempts int `yaml:"max_attempts" json:"max_attempts,omitempty"`
	// SentryDSN, when set, sends processing errors to Sentry.
	SentryDSN string `yaml:"sentry_dsn" json:"-"`
}

// GitHubAction raises an issue (or comments on the open one with the same
// title and first label) for each passing set.
type GitHubAction struct {
	// Repo is "owner/name".
	Repo string `yaml:"repo" json:"repo"`
	// Title, Body and Labels are templates (defaults: the original's).
	Title  string   `yaml:"title" json:"title,omitempty"`
	Body   string   `yaml:"body" json:"body,omitempty"`
	Labels []string `yaml:"labels" json:"labels,omitempty"`
	// Token, when set, is used instead of the configuration's GitHub auth.
	Token string `yaml:"token" json:"-"`
}

// EmailAction emails the failures of a set.
type EmailAction struct {
	// To are the recipients; empty means the action is not configured.
	To []string `yaml:"to" json:"to"`
	// From is the sender address.
	From string `yaml:"from" json:"from"`
	// Subject and Body are templates (defaults: the original's).
	Subject string `yaml:"subject" json:"subject,omitempty"`
	Body    string `yaml:"body" json:"body,omitempty"`
	// Via is smtp://user:pass@host:port (STARTTLS required),
	// smtps://user:pass@host:port (TLS) or ses://?region=R (Amazon SES v2
	// with the runtime's AWS credentials; &endpoint=URL for tests).
	Via string `yaml:"via" json:"-"`
}

// CallbackAction POSTs the report as JSON after every processed set.
type CallbackAction struct {
	URL string `yaml:"url" json:"url"`
	// Token is sent as "Authorization: Token <token>"; empty: the request
	// is logged, not sent.
	Token string `yaml:"token" json:"-"`
	// Attempts is the number of tries on 5xx and network errors (default 5).
	Attempts int `yaml:"attempts" json:"attempts,omitempty"`
}

// EnrichAction fetches the group's display name.
type EnrichAction struct {
	// URL is a template, e.g. https://example.org/councils/{group}.json.
	URL string `yaml:"url" json:"url"`
	// Field is the JSON field holding the name (dots for nesting; default name).
	Field string `yaml:"field" json:"field,omitempty"`
}

// The original's templates, the defaults.
const (
	DefaultIssueTitle   = "Import {group}-{name} for {date}"
	DefaultIssueBody    = "EMS: {profile}\nFiles:{files}"
	DefaultEmailSubject = "Error with data for council {group}-{name}"
	DefaultEmailBody    = "Data for council {group}-{name} failed because:\n{reasons}\n\nPlease follow up."
)

// DefaultIssueLabels are the original's labels.
func DefaultIssueLabels() []string { return []string{"Data Import", "ready"} }

// DefaultPoll is the poll interval when none is configured.
const DefaultPoll = time.Minute

// PollInterval returns Poll or DefaultPoll.
func (c *Config) PollInterval() time.Duration {
	if c.Poll > 0 {
		return c.Poll
	}
	return DefaultPoll
}

// DefaultMaxAttempts is how many runs try a set's failed actions when
// max_attempts is not configured.
const DefaultMaxAttempts = 10

// Attempts returns MaxAttempts or DefaultMaxAttempts.
func (c *Config) Attempts() int {
	if c.MaxAttempts > 0 {
		return c.MaxAttempts
	}
	return DefaultMaxAttempts
}

// job is a compiled Config.
type job struct {
	cfg     *Config
	pattern *KeyPattern
	checks  *Checks
	format  string

	title, body        *Template
	labels             []*Template
	subject, emailBody *Template
	enrichURL          *Template
	owner, repo        string
	via                *url.URL
}

// Validate checks the configuration and returns every problem, each naming
// its key (e.g. "github.title: template: unknown placeholder {foo} …").
func (c *Config) Validate() []FieldError {
	_, errs := compile(c)
	return errs
}

func compile(c *Config) (*job, []FieldError) {
	var errs []FieldError
	add := func(field, msg string, a ...any) {
		errs = append(errs, FieldError{Field: field, Msg: fmt.Sprintf(msg, a...)})
	}
	j := &job{cfg: c, format: c.Format}
	if j.format == "" {
		j.format = FormatGhsync
	}
	if j.format != FormatGhsync && j.format != FormatWDIV {
		add("format", "unknown format %q (want ghsync or wdiv)", c.Format)
	}
	if strings.TrimSpace(c.Watch) == "" {
		add("watch", "required: the store URL uploads land in (e.g. s3://bucket/uploads/)")
	}
	var err error
	if j.pattern, err = ParseKeyPattern(c.KeyPattern); err != nil {
		add("key_pattern", "%v", err)
	}
	var cerrs []FieldError
	j.checks, cerrs = CompileChecks(c.Checks)
	errs = append(errs, cerrs...)
	tpl := func(field, src, def string) *Template {
		if src == "" {
			src = def
		}
		t, err := ParseTemplate(src, j.pattern)
		if err != nil {
			add(field, "template: %v", err)
		}
		return t
	}
	if g := c.GitHub; g != nil {
		owner, repo, ok := strings.Cut(g.Repo, "/")
		if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
			add("github.repo", "want owner/name, got %q", g.Repo)
		}
		j.owner, j.repo = owner, repo
		j.title = tpl("github.title", g.Title, DefaultIssueTitle)
		j.body = tpl("github.body", g.Body, DefaultIssueBody)
		labels := g.Labels
		if labels == nil {
			labels = DefaultIssueLabels()
		}
		for i, l := range labels {
			j.labels = append(j.labels, tpl(fmt.Sprintf("github.labels[%d]", i), l, ""))
		}
	}
	if e := c.Email; e != nil {
		for i, to := range e.To {
			if _, err := mail.ParseAddress(to); err != nil {
				add(fmt.Sprintf("email.to[%d]", i), "not an email address: %q", to)
			}
		}
		if len(e.To) > 0 {
			if _, err := mail.ParseAddress(e.From); err != nil {
				add("email.from", "want the sender's address, got %q", e.From)
			}
			if j.via, err = parseVia(e.Via); err != nil {
				add("email.via", "%v", err)
			}
		}
		j.subject = tpl("email.subject", e.Subject, DefaultEmailSubject)
		j.emailBody = tpl("email.body", e.Body, DefaultEmailBody)
	}
	if cb := c.Callback; cb != nil {
		if u, err := url.Parse(cb.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("callback.url", "want an http(s) URL, got %q", redactURLString(cb.URL))
		}
		if cb.Attempts < 0 {
			add("callback.attempts", "must not be negative")
		}
	}
	if en := c.Enrich; en != nil {
		j.enrichURL = tpl("enrich.url", en.URL, "")
		if en.URL == "" {
			add("enrich.url", "required: a URL template such as https://example.org/groups/{group}.json")
		}
	}
	if c.Poll < 0 {
		add("poll", "must not be negative")
	}
	if c.MaxAttempts < 0 {
		add("max_attempts", "must not be negative (0 means the default, %d)", DefaultMaxAttempts)
	}
	if c.SentryDSN != "" {
		if u, err := url.Parse(c.SentryDSN); err != nil || u.Host == "" || u.User == nil {
			add("sentry_dsn", "not a Sentry DSN (https://KEY@HOST/PROJECT)")
		}
	}
	return j, errs
}

// parseVia checks an email.via URL.
func parseVia(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("required: smtp://user:pass@host:port, smtps://… or ses://?region=R")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %s", redactURLString(raw))
	}
	switch u.Scheme {
	case "smtp", "smtps":
		if u.Hostname() == "" {
			return nil, fmt.Errorf("%s: no host", redactURL(u))
		}
	case "ses":
	default:
		return nil, fmt.Errorf("%s: want smtp://, smtps:// or ses://", redactURL(u))
	}
	return u, nil
}

// redactURL hides a URL's password (and a DSN-style user, which is a key).
func redactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		if _, has := c.User.Password(); has {
			c.User = url.UserPassword(c.User.Username(), "REDACTED")
		}
	}
	return c.String()
}

func redactURLString(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return redactURL(u)
}
