// Package jobs runs configured jobs: it turns a config.Job into the options
// of its capability, opens the GitHub client and the stores it needs, runs
// it, and sends the alerts the job asks for. Every runtime (CLI, serve,
// Lambda) runs jobs through a Runner, so no capability knows its runtime.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/notify"
)

// ErrUsage marks errors caused by bad input or configuration (exit code 2).
var ErrUsage = errors.New("usage")

// Runner runs jobs of one configuration. It is safe for concurrent use.
type Runner struct {
	Config *config.Config
	Logger *slog.Logger
	Getenv func(string) string
	// HTTPClient is the base HTTP client for GitHub and alerts (tests); nil = default.
	HTTPClient *http.Client

	mu sync.Mutex
	gh *github.Client
}

// RunOptions are the per-run switches of every verb that changes things.
type RunOptions struct {
	DryRun   bool
	Force    bool // ignore the max_delete guard
	Verify   bool // list the store and repair drift
	Progress func(done, total int, bytes int64)
}

// Result is a run's outcome: the capability's summary (JSON-encodable) and
// whether it changed anything.
type Result struct {
	Job     string
	Kind    string
	Summary any
	Changed bool
}

// Run runs the job called name once.
func (r *Runner) Run(ctx context.Context, name string, ro RunOptions) (*Result, error) {
	job, ok := r.Config.Job(name)
	if !ok {
		return nil, fmt.Errorf("%w: no job named %q in %s (see `ghsync jobs`)", ErrUsage, name, r.configName())
	}
	switch job.Kind {
	case config.KindRepo:
		return r.runRepo(ctx, job, ro)
	case config.KindStatuses:
		return r.runStatuses(ctx, job, ro)
	default:
		return nil, fmt.Errorf("%w: job %q has kind %q, which this version cannot run yet", ErrUsage, name, job.Kind)
	}
}

func (r *Runner) configName() string {
	if r.Config.File == "" {
		return "the embedded defaults"
	}
	return r.Config.File
}

// GitHub returns the shared GitHub client, built on first use from the
// config's github section with the environment as fallback.
func (r *Runner) GitHub(ctx context.Context) (*github.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gh != nil {
		return r.gh, nil
	}
	getenv := r.Getenv
	cfg := github.ConfigFromEnv(getenv)
	g := r.Config.GitHub
	if g.APIURL != "" && (g.APIURL != config.DefaultAPIURL || cfg.BaseURL == "") {
		cfg.BaseURL = g.APIURL // the file's api_url wins over GITHUB_API_URL; its default does not
	}
	if g.AppID != "" {
		id, err := strconv.ParseInt(g.AppID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: github.app_id %q is not a number", ErrUsage, g.AppID)
		}
		cfg.AppID, cfg.Token = id, ""
	}
	if !g.PrivateKey.IsZero() {
		key, err := g.PrivateKey.Resolve(ctx)
		if err != nil {
			return nil, fmt.Errorf("github.private_key: %w", err)
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
			return nil, fmt.Errorf("github.token: %w", err)
		}
		cfg.Token = tok
	}
	cfg.HTTPClient, cfg.Logger = r.HTTPClient, r.Logger
	gh, err := github.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("github client: %w", err)
	}
	r.gh = gh
	return gh, nil
}

// notifier returns the alert sender for job.
func (r *Runner) notifier(ctx context.Context, job *config.Job) *notify.Notifier {
	a := r.Config.Alerts
	n := &notify.Notifier{HTTP: r.HTTPClient, Logger: r.Logger}
	for _, l := range job.Alerts {
		n.Levels = append(n.Levels, string(l))
	}
	if !a.SlackWebhookURL.IsZero() {
		if u, err := a.SlackWebhookURL.Resolve(ctx); err == nil {
			n.SlackURL = u
		} else {
			r.Logger.Warn("alerts.slack_webhook_url cannot be resolved; alerts off", "err", err)
		}
	}
	n.WebhookURL = a.WebhookURL
	return n
}
