package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/notify"
	"github.com/ghsync/ghsync/internal/store"
)

// Env is what every job kind shares within one process: the configuration,
// the logger and environment, and the clients opened lazily on first use
// (GitHub, the database) and kept for later runs. It is safe for
// concurrent use. Close releases what it opened.
type Env struct {
	// Config is the loaded configuration.
	Config *config.Config
	// Logger receives logs (never nil after NewEnv).
	Logger *slog.Logger
	// Getenv reads the environment (never nil after NewEnv).
	Getenv func(string) string
	// HTTPClient is the base HTTP client for GitHub, alerts and third-party
	// APIs (nil = http.DefaultClient's transport).
	HTTPClient *http.Client
	// StateInStores is set by runtimes whose database does not survive
	// (Lambda's /tmp): kinds keep their state in their stores instead.
	StateInStores bool
	// Registerer receives the metrics of kinds that export some (set by
	// the runtime before the first run; nil = not exported).
	Registerer prometheus.Registerer
	// GitHubRetryBase is the first pause between attempts of a GitHub
	// request: the HTTP client's (github.Config.RetryBase, default 500ms)
	// and a statuses job's GraphQL retries (statuses.Options.RetryWait,
	// default 1s); zero = those defaults. Tests that exercise retries set it
	// small; the number of attempts is the same.
	GitHubRetryBase time.Duration

	// mu guards the fields below and is never held across I/O: values that
	// take I/O to create are made under their own onceSlot (see once).
	mu     sync.Mutex
	db     *db.DB
	ownDB  bool
	dbs    map[string]*db.DB // other databases by URL (OpenDB)
	slots  map[string]*onceSlot
	shared map[string]any // values set directly (UseLogDownloader)
}

// NewEnv returns an Env over cfg. d, when not nil, is the already open
// database that DB returns (serve's); otherwise DB opens cfg.Database on
// first use.
func NewEnv(cfg *config.Config, logger *slog.Logger, getenv func(string) string, hc *http.Client, d *db.DB) *Env {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return &Env{Config: cfg, Logger: logger, Getenv: getenv, HTTPClient: hc, db: d}
}

// GitHub returns the shared GitHub client, built on first use from the
// config's github section with the environment as fallback.
//
// Resolving the config's secrets may take network requests; they are made
// without holding the Env's lock, and a failure is not remembered: the next
// call tries again.
func (e *Env) GitHub(ctx context.Context) (*github.Client, error) {
	v, err := e.once(sharedGitHub, func() (any, error) {
		cfg, err := e.githubConfig(ctx)
		if err != nil {
			return nil, err
		}
		gh, err := github.New(cfg)
		if err != nil {
			return nil, fmt.Errorf("github client: %w", err)
		}
		return gh, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*github.Client), nil
}

// sharedGitHub is the once key of the GitHub client.
const sharedGitHub = "env.github"

// GitHubAPIURL is the GitHub REST base URL jobs use: the file's
// github.api_url wins over GITHUB_API_URL; its default does not.
func (e *Env) GitHubAPIURL() string {
	u := e.Config.GitHub.APIURL
	if env := e.Getenv("GITHUB_API_URL"); env != "" && (u == "" || u == config.DefaultAPIURL) {
		return env
	}
	return u
}

// githubConfig merges the config's github section over the environment's
// (GITHUB_APP_ID, GITHUB_TOKEN, …), resolving secrets.
func (e *Env) githubConfig(ctx context.Context) (github.Config, error) {
	cfg := github.ConfigFromEnv(e.Getenv)
	g := e.Config.GitHub
	cfg.BaseURL = e.GitHubAPIURL()
	if g.AppID != "" {
		id, err := strconv.ParseInt(g.AppID, 10, 64)
		if err != nil {
			return cfg, Usagef("github.app_id %q is not a number", g.AppID)
		}
		cfg.AppID, cfg.Token = id, ""
	}
	if !g.PrivateKey.IsZero() {
		key, err := g.PrivateKey.Resolve(ctx)
		if err != nil {
			return cfg, fmt.Errorf("github.private_key: %w", err)
		}
		cfg.PrivateKey = []byte(key)
	}
	if g.PrivateKeyFile != "" {
		cfg.PrivateKeyFile = g.PrivateKeyFile
	}
	if g.InstallationID != 0 {
		cfg.InstallationID = g.InstallationID
	}
	if !g.Token.IsZero() && g.AppID == "" {
		tok, err := g.Token.Resolve(ctx)
		if err != nil {
			return cfg, fmt.Errorf("github.token: %w", err)
		}
		cfg.Token = tok
	}
	cfg.HTTPClient, cfg.Logger = e.HTTPClient, e.Logger
	cfg.RetryBase = e.GitHubRetryBase
	return cfg, nil
}

// DB returns the configuration's database (the one given to NewEnv, or
// cfg.Database opened on first use and kept until Close).
// A failure to open is not remembered.
func (e *Env) DB(ctx context.Context) (*db.DB, error) {
	e.mu.Lock()
	d := e.db
	e.mu.Unlock()
	if d != nil {
		return d, nil
	}
	v, err := e.once("env.db", func() (any, error) {
		d, err := db.Open(ctx, e.Config.Database, e.Logger)
		if err != nil {
			return nil, fmt.Errorf("open the database: %w", err)
		}
		e.mu.Lock()
		e.db, e.ownDB = d, true
		e.mu.Unlock()
		return d, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*db.DB), nil
}

// OpenDB returns the database at url, opened on first use and kept until
// Close (the config's database when url is "" or equal to it). A URL that
// cannot be opened is an error naming it (without its password).
func (e *Env) OpenDB(ctx context.Context, url string) (*db.DB, error) {
	if url == "" || url == e.Config.Database {
		return e.DB(ctx)
	}
	open := url
	if isReadOnly(ctx) && absentSQLite(url) {
		// A dry run plans against an empty database rather than create one.
		open, url = emptySQLite(url), "dry-run:"+url
	}
	v, err := e.once("env.db:"+url, func() (any, error) {
		d, err := db.Open(ctx, open, e.Logger)
		if err != nil {
			return nil, err
		}
		e.mu.Lock()
		if e.dbs == nil {
			e.dbs = map[string]*db.DB{}
		}
		e.dbs[url] = d
		e.mu.Unlock()
		return d, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*db.DB), nil
}

// Shared returns the process-wide value stored under key, created by
// create on first use (e.g. a rate limiter every job on one API base
// shares). Kinds prefix keys with their name. create runs without the Env's
// lock: creating one key never blocks another key, GitHub or DB; callers of
// the same key wait for the one creating it. For a create that can fail,
// use SharedErr.
func (e *Env) Shared(key string, create func() any) any {
	v, _ := e.once("shared:"+key, func() (any, error) { return create(), nil })
	return v
}

// SharedErr is Shared for a create that can fail: the value is kept only
// when create succeeds; an error is returned to this caller and never
// remembered, so the next call (e.g. the next run after a cancelled one or
// a transient database error) tries again.
func (e *Env) SharedErr(key string, create func() (any, error)) (any, error) {
	return e.once("shared:"+key, create)
}

// OpenStore opens the store at url (see store.Open) with the Env's logger;
// a URL that cannot be opened is a usage error (missing credentials are not:
// they fail the run as a *store.CredentialsError). Close the bucket after use.
// Under a ReadOnly context a file:// folder that does not exist is not
// created: an empty bucket stands for it.
func (e *Env) OpenStore(ctx context.Context, url string, o store.Options) (*store.Bucket, error) {
	if o.Logger == nil {
		o.Logger = e.Logger
	}
	if isReadOnly(ctx) && absentFolder(url) {
		url = "mem://" // a private, empty bucket: nothing is stored in a folder that does not exist
	}
	b, err := store.Open(ctx, url, o)
	if errors.Is(err, store.ErrNoCredentials) {
		return nil, err // the environment lacks credentials: a failed run, as when S3 finds out later
	}
	if err != nil {
		return nil, Usage(err)
	}
	return b, nil
}

// Alert sends a to the alert senders configured for job, if job asks for
// a's level. Sending is best effort: failures are logged.
func (e *Env) Alert(ctx context.Context, job *config.Job, a notify.Alert) {
	a.Job = job.Name
	_ = e.notifier(ctx, job).Send(ctx, a)
}

// notifier returns the alert sender for job.
func (e *Env) notifier(ctx context.Context, job *config.Job) *notify.Notifier {
	al := e.Config.Alerts
	n := &notify.Notifier{HTTP: e.HTTPClient, Logger: e.Logger}
	for _, l := range job.Alerts {
		n.Levels = append(n.Levels, string(l))
	}
	if !al.SlackWebhookURL.IsZero() {
		if u, err := al.SlackWebhookURL.Resolve(ctx); err == nil {
			n.SlackURL = u
		} else {
			e.Logger.Warn("alerts.slack_webhook_url cannot be resolved; alerts off", "err", err)
		}
	}
	n.WebhookURL = al.WebhookURL
	return n
}

// Close closes the databases the Env opened.
func (e *Env) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	if e.ownDB && e.db != nil {
		errs = append(errs, e.db.Close())
		e.db = nil
	}
	for u, d := range e.dbs {
		errs = append(errs, d.Close())
		delete(e.dbs, u)
	}
	for k := range e.slots {
		if strings.HasPrefix(k, "env.db") {
			delete(e.slots, k) // closed: a later DB or OpenDB opens again
		}
	}
	return errors.Join(errs...)
}

// onceSlot holds one lazily created value: mu serialises its creators (so
// concurrent callers do not duplicate the work), done and v hold a success.
type onceSlot struct {
	mu   sync.Mutex
	done bool
	v    any
}

// once returns the value under key, calling create to make it when no call
// has succeeded yet. Env.mu is held only to find the key's slot, never while
// create runs; an error is returned and not kept, so a later call retries.
func (e *Env) once(key string, create func() (any, error)) (any, error) {
	e.mu.Lock()
	if e.slots == nil {
		e.slots = map[string]*onceSlot{}
	}
	s, ok := e.slots[key]
	if !ok {
		s = &onceSlot{}
		e.slots[key] = s
	}
	e.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return s.v, nil
	}
	v, err := create()
	if err != nil {
		return nil, err
	}
	s.v, s.done = v, true
	return v, nil
}
