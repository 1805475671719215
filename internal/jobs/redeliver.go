package jobs

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/notify"
	"github.com/ghsync/ghsync/internal/webhooks/recovery"
)

// KindRedeliver is the name of the redeliver kind: ask GitHub to redeliver
// the webhook deliveries ghsync never stored (docs/webhooks.md, "Missed
// deliveries").
const KindRedeliver = "redeliver"

// RedeliverSettings are the settings of a redeliver job.
type RedeliverSettings struct {
	// Window is how far back the App's deliveries are examined (default
	// 72h, about what GitHub keeps).
	Window config.Duration `yaml:"window"`
	// MaxRequests bounds the redeliveries requested per run (default 100).
	MaxRequests int `yaml:"max_requests"`
}

// redeliverKind runs recovery.Redeliver.
type redeliverKind struct{}

func (redeliverKind) Name() string     { return KindRedeliver }
func (redeliverKind) NewSettings() any { return &RedeliverSettings{} }

// RedeliverOf returns the settings of a redeliver job (nil for other kinds).
func RedeliverOf(job *config.Job) *RedeliverSettings {
	s, _ := job.Settings.(*RedeliverSettings)
	return s
}

// Check applies the defaults and validates the settings.
func (redeliverKind) Check(v any, c *config.Checker) {
	s := v.(*RedeliverSettings)
	if !c.Has("window") {
		s.Window = config.Duration(72 * time.Hour)
	}
	if !c.Has("max_requests") {
		s.MaxRequests = 100
	}
	if s.Window <= 0 {
		c.Errorf("window", "must be positive")
	}
	c.Range("max_requests", s.MaxRequests, 1, 10000)
}

func (redeliverKind) Describe(job *config.Job) Description {
	s := RedeliverOf(job)
	return Description{Source: "GitHub App hook deliveries", Dest: "webhook deliveries (database)", Settings: []Setting{
		{"window", s.Window.Std().String()}, {"max requests", strconv.Itoa(s.MaxRequests)},
	}}
}

func (redeliverKind) Needs(*config.Job) Needs { return Needs{Database: true} }

// Run lists the App's recent deliveries and asks for the missing ones.
func (redeliverKind) Run(ctx context.Context, env *Env, job *config.Job, ro RunOptions) (*Result, error) {
	s := RedeliverOf(job)
	app, err := env.appClient(ctx)
	if err != nil {
		return nil, err
	}
	d, err := env.webhookDB(ctx)
	if err != nil {
		return nil, err
	}
	m, err := env.recoveryMetrics()
	if err != nil {
		return nil, err
	}
	sum, err := recovery.Redeliver(ctx, d, app, recovery.RedeliverOptions{Window: s.Window.Std(), MaxRequests: s.MaxRequests, DryRun: ro.DryRun,
		Retention: env.Config.Webhooks.Retention.Std(), Cursor: job.Name},
		m, env.Logger.With("job", job.Name))
	res := &Result{}
	if sum != nil {
		res.Summary, res.Changed = sum, sum.Requested > 0
		res.SetText(func(w io.Writer) { writeRedeliverText(w, sum) })
	}
	if !ro.DryRun && !ro.NoAlerts {
		switch {
		case err != nil:
			env.Alert(ctx, job, notify.Alert{Level: notify.LevelError, Title: "webhook redelivery failed", Text: err.Error()})
		case sum != nil && sum.Requested > 0:
			env.Alert(ctx, job, notify.Alert{Level: notify.LevelChange, Title: "missed webhook deliveries redelivered",
				Text: fmt.Sprintf("%d missed deliveries: redelivery requested", sum.Requested)})
		}
	}
	return res, err
}

// appClient builds the App-JWT client of the config's GitHub App (the
// deliveries API takes no installation token); a usage error without an App.
func (e *Env) appClient(ctx context.Context) (*recovery.AppClient, error) {
	cfg, err := e.githubConfig(ctx)
	if err != nil {
		return nil, err
	}
	if cfg.AppID == 0 {
		return nil, Usagef("kind redeliver needs a GitHub App: set github.app_id and github.private_key (or private_key_file); the App's hook deliveries API takes an App JWT, not a token")
	}
	key := cfg.PrivateKey
	if len(key) == 0 && cfg.PrivateKeyFile != "" {
		if key, err = os.ReadFile(cfg.PrivateKeyFile); err != nil {
			return nil, Usagef("GitHub App private key file: %w", err)
		}
	}
	if len(key) == 0 {
		return nil, Usagef("kind redeliver: GitHub App %d has no private key (github.private_key or private_key_file)", cfg.AppID)
	}
	var rt http.RoundTripper
	if e.HTTPClient != nil {
		rt = e.HTTPClient.Transport
	}
	app, err := recovery.NewAppClient(cfg.AppID, key, cfg.BaseURL, rt)
	if err != nil {
		return nil, Usage(err)
	}
	return app, nil
}

func writeRedeliverText(w io.Writer, s *recovery.RedeliverSummary) {
	dry := ""
	if s.DryRun {
		dry = " (dry run: nothing requested)"
	}
	fmt.Fprintf(w, "%d deliveries listed (%d pages), %d GUIDs: %d stored, %d missing; %d redeliveries requested, %d already requested, %d left for the next run, %d failed%s\n",
		s.Listed, s.Pages, s.GUIDs, s.Stored, s.Missing, s.Requested, s.AlreadyRequested, s.OverLimit, s.Failed, dry)
	for _, g := range s.RequestedGUIDs {
		fmt.Fprintf(w, "  requested %s\n", g)
	}
}
