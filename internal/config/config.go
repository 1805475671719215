// Package config loads and validates ghsync's YAML configuration.
//
// One file (ghsync.yaml, --config or GHSYNC_CONFIG) describes GitHub
// authentication, the default store and database, alerts, the webhook
// endpoint and the jobs. ${VAR} and ${VAR:-default} in scalar values are
// expanded from the environment; decoding is strict (unknown keys are
// errors); every problem is reported as an *Error naming file, line, column
// and field, and all problems are reported at once. Secret-valued settings are
// of type Secret, which never prints its value.
package config

import (
	"fmt"
)

// Default values applied by Parse and Load (and by Default).
const (
	DefaultStorage     = "file://./out"
	DefaultDatabase    = "sqlite://./data/ghsync.db"
	DefaultAPIURL      = "https://api.github.com/"
	DefaultGraphQLURL  = "https://api.github.com/graphql"
	DefaultWebhookPath = "/api/github/webhooks"
)

// Config is a loaded, defaulted and validated configuration.
type Config struct {
	// File is where the configuration came from: the file name given to
	// Load/Parse, "GHSYNC_CONFIG_YAML", or "" for the embedded defaults.
	File string `yaml:"-"`
	// GitHub holds the credentials and endpoints shared by every job.
	GitHub GitHub `yaml:"github"`
	// Storage is the default store URL onto which relative destinations are
	// joined (default "file://./out").
	Storage string `yaml:"storage"`
	// Database is the state database URL: sqlite://PATH, postgres://… or
	// mysql://… (default "sqlite://./data/ghsync.db"). It may hold a password:
	// log it only through url.URL.Redacted.
	Database string `yaml:"database"`
	// Alerts holds the global alert senders and default levels.
	Alerts Alerts `yaml:"alerts"`
	// Webhooks configures the webhook endpoint of `ghsync serve`.
	Webhooks Webhooks `yaml:"webhooks"`
	// Serve configures who may read `ghsync serve` (serve.auth).
	Serve Serve `yaml:"serve"`
	// Jobs are the configured jobs, in file order; names are unique.
	Jobs []*Job `yaml:"jobs"`
	// Warnings are non-fatal remarks (e.g. a secret written literally in the
	// file); callers should log them.
	Warnings []*Error `yaml:"-"`

	pos map[string]Pos
	dir string // see Dir
}

// GitHub selects how ghsync authenticates to GitHub: a GitHub App (AppID and
// PrivateKey or PrivateKeyFile), a Token, or nothing (public repositories).
type GitHub struct {
	// AppID is the GitHub App's id (or client id). Falls back to the legacy
	// environment variable app_id when neither it nor Token is set.
	AppID string `yaml:"app_id"`
	// PrivateKey is the App's PEM private key, possibly with newlines
	// replaced by '|'. Falls back to the legacy environment variable
	// private_key. Use PrivateKeyPEM to read it.
	PrivateKey Secret `yaml:"private_key"`
	// PrivateKeyFile is a path to the PEM private key (alternative to PrivateKey).
	PrivateKeyFile string `yaml:"private_key_file"`
	// InstallationID pins the App installation; 0 means discover it.
	InstallationID int64 `yaml:"installation_id"`
	// Token is a personal access token or Actions token (alternative to an App).
	Token Secret `yaml:"token"`
	// APIURL is the REST base URL (default https://api.github.com/; for GitHub
	// Enterprise Server https://HOST/api/v3/).
	APIURL string `yaml:"api_url"`
	// GraphQLURL is the GraphQL endpoint (default derived from APIURL).
	GraphQLURL string `yaml:"graphql_url"`
}

// Auth kinds returned by GitHub.AuthKind.
const (
	AuthApp   = "app"
	AuthToken = "token"
	AuthNone  = "none"
)

// AuthKind reports which authentication the settings select: AuthApp,
// AuthToken or AuthNone.
func (g *GitHub) AuthKind() string {
	switch {
	case g.AppID != "":
		return AuthApp
	case !g.Token.IsZero():
		return AuthToken
	default:
		return AuthNone
	}
}

// Level is an alert level: LevelError, LevelChange or LevelInfo.
type Level string

// Alert levels.
const (
	LevelError  Level = "error"
	LevelChange Level = "change"
	LevelInfo   Level = "info"
)

// Alerts configures where alerts go and which levels are sent by default.
type Alerts struct {
	// SlackWebhookURL is a Slack incoming-webhook URL (a secret).
	SlackWebhookURL Secret `yaml:"slack_webhook_url"`
	// WebhookURL receives a generic JSON alert by POST.
	WebhookURL string `yaml:"webhook_url"`
	// Levels are the levels sent for jobs that do not set their own
	// (default [error, change]).
	Levels []Level `yaml:"levels"`
}

// Webhooks configures the GitHub webhook endpoint.
type Webhooks struct {
	// Secrets are the accepted webhook secrets (several allow rotation).
	// Entries that expand to "" (an unset ${VAR}) are dropped.
	Secrets []Secret `yaml:"secrets"`
	// InsecureNoSignature allows running the endpoint without any secret.
	InsecureNoSignature bool `yaml:"insecure_no_signature"`
	// Path is the URL path of the endpoint (default /api/github/webhooks).
	Path string `yaml:"path"`
	// Archive configures the raw-payload archive.
	Archive WebhookArchive `yaml:"archive"`
	// Logs configures the download and classification of CI job logs.
	Logs WebhookLogs `yaml:"logs"`
	// CircleCI configures the CircleCI webhook endpoint.
	CircleCI WebhookCircleCI `yaml:"circleci"`
	// DynamoDB, when set, mirrors the projections to DynamoDB tables.
	DynamoDB *WebhookDynamoDB `yaml:"dynamodb"`
	// Retention is how long a stored delivery (its row in deliveries and
	// redelivery_requests) is kept (default DefaultWebhookRetention, at
	// least 1h; 0 keeps them forever). Payloads leave SQL earlier: once
	// archived and processed.
	Retention Duration `yaml:"retention"`
}

// WebhookArchive configures how raw webhook payloads are archived.
type WebhookArchive struct {
	// Dest is the archive's store URL + prefix (relative ones are joined onto
	// Config.Storage); "" disables the archive.
	Dest string `yaml:"dest"`
	// BatchBytes closes a batch object at this size (default 8MiB).
	BatchBytes Size `yaml:"batch_bytes"`
	// BatchAge closes a batch object at this age (default 1m).
	BatchAge Duration `yaml:"batch_age"`
	// PerDelivery also writes one object per delivery.
	PerDelivery bool `yaml:"per_delivery"`
}

// Job is one configured job: the keys common to every kind, and the
// kind-specific Settings decoded and checked by the kind (see KindSchema).
type Job struct {
	// Name identifies the job: unique, matching [a-z0-9][a-z0-9._-]*.
	Name string
	// Kind names the job's kind (one of the Kinds given to Load).
	Kind string
	// Schedule is the schedule expression as written ("" = not scheduled);
	// it is validated by the scheduler, which can report errors at SchedulePos.
	Schedule string
	// SchedulePos is where Schedule was written (zero if absent).
	SchedulePos Pos
	// Timezone is an IANA zone name for cron schedules ("" = UTC).
	Timezone string
	// Alerts are the levels sent for this job (default Config.Alerts.Levels).
	Alerts []Level
	// Pos is where the job's mapping starts.
	Pos Pos
	// Settings is the kind's settings value (what its NewSettings returned),
	// decoded, defaulted and checked. Only the kind's own code reads it.
	Settings any
}

// WantsAlert reports whether alerts of level l are sent for this job.
func (j *Job) WantsAlert(l Level) bool {
	for _, x := range j.Alerts {
		if x == l {
			return true
		}
	}
	return false
}

// Job returns the job called name.
func (c *Config) Job(name string) (*Job, bool) {
	for _, j := range c.Jobs {
		if j.Name == name {
			return j, true
		}
	}
	return nil, false
}

// Pos returns where field (a path such as "jobs[1].schedule") was written,
// or where its nearest written parent was; the zero Pos when unknown.
func (c *Config) Pos(field string) Pos {
	return lookupPos(c.pos, field)
}

// FieldError builds an *Error about field located in this configuration's
// file, for packages that validate parts of the configuration later (e.g.
// schedules: cfg.FieldError("jobs[0].schedule", "bad cron: %v", err)).
func (c *Config) FieldError(field, format string, args ...any) *Error {
	p := c.Pos(field)
	return &Error{File: c.File, Line: p.Line, Column: p.Column, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// JobField returns the field path of key inside the job called name, e.g.
// JobField("site", "schedule") == "jobs[0].schedule"; "" if there is no such job.
func (c *Config) JobField(name, key string) string {
	for i, j := range c.Jobs {
		if j.Name == name {
			return joinPath(indexPath("jobs", i), key)
		}
	}
	return ""
}

// Default returns the embedded defaults: storage "file://./out", database
// "sqlite://./data/ghsync.db", public GitHub, alert levels [error, change],
// the standard webhook path, and no jobs.
func Default() *Config {
	c := &Config{pos: map[string]Pos{}}
	applyDefaults(c)
	return c
}
