package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/schedule"
	"github.com/ghsync/ghsync/internal/scheduler"
	"github.com/ghsync/ghsync/internal/serve"
	"github.com/ghsync/ghsync/internal/ui"
	"github.com/ghsync/ghsync/internal/webhooks/logs"
)

// schedulerFlags are serve's scheduler settings.
type schedulerFlags struct {
	replicaID   string
	workers     int
	jobTimeout  time.Duration
	rescueAfter time.Duration
	lockTTL     time.Duration
	maxAttempts int
	hold        time.Duration
}

func (f *schedulerFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.replicaID, "replica-id", "", "this replica's name in the run history (default HOSTNAME-PID)")
	fl.IntVar(&f.workers, "workers", 4, "jobs this replica runs at once (each job still runs once at a time)")
	fl.DurationVar(&f.jobTimeout, "job-timeout", time.Hour, "cancel a run that takes longer")
	fl.DurationVar(&f.rescueAfter, "rescue-after", 0, "retry elsewhere a run still marked running after this long (its replica died); default job-timeout + 1m")
	fl.DurationVar(&f.lockTTL, "lock-ttl", time.Minute, "lease of a running job; a dead replica's job is free again after it")
	fl.IntVar(&f.maxAttempts, "max-attempts", 3, "attempts of a failing run (with backoff) before it is given up")
	fl.DurationVar(&f.hold, "test-hold", 0, "testing: hold every run this long before it starts")
	_ = fl.MarkHidden("test-hold")
}

// check validates serve's flags (see flags.go).
func (f *schedulerFlags) check(addr, database string) error {
	checks := []error{checkHostPort("addr", addr), checkMin("workers", f.workers, 1),
		checkPositive("job-timeout", f.jobTimeout), checkNonNegative("rescue-after", f.rescueAfter),
		checkPositive("lock-ttl", f.lockTTL), checkMin("max-attempts", f.maxAttempts, 1),
		checkNonNegative("test-hold", f.hold)}
	if database != "" {
		checks = append(checks, checkStateDB("--database", database))
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

func (a *app) serveCmd() *cobra.Command {
	var addr, database string
	var sf schedulerFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: job schedules, GitHub webhook endpoint, read API, health and metrics",
		Long: `Run ghsync as a long-lived HTTP server:

  POST /api/github/webhooks   GitHub webhooks: signature-checked, stored durably before
                              the 2xx, deduplicated, projected into per-event tables
  GET  /api/deliveries        recent deliveries (event=, since=, limit=, cursor=)
  GET  /api/events/{table}    a projection table (repo=, status=, classification=, since=,
                              limit=, cursor=); 409 naming the DynamoDB table when
                              webhooks.dynamodb.sql_projections is false
  POST /api/circleci/webhooks CircleCI webhooks (when webhooks.circleci.secrets is set)
  GET  /api/runs              the job run history (job=, limit=)
  GET  /ui/                   web UI: jobs and runs, deliveries, the HUD (docs/ui.md)
  GET  /healthz /readyz /metrics

Who may read it: the webhook receivers, /healthz and /readyz are always open
(deliveries are checked by their signatures). The read API (/api/…), the web
UI and /metrics need the token of serve.auth.token (or GHSYNC_SERVE_TOKEN)
whenever one is set: "Authorization: Bearer TOKEN", or sign in at /ui/login
in a browser. Without a token they are open, which serve allows only on a
loopback-only --addr (127.0.0.1, ::1, localhost): on 0.0.0.0, :PORT or any
other address it refuses to start (exit 2) unless serve.auth.insecure_public_read
is true (for a private network behind its own authentication; warned at
every start). See docs/ui.md.

Jobs with a schedule: run on it through a River job queue in the database
(SQLite by default; with --database postgres://… several serve replicas share
the work, each tick running once across them). A job never overlaps itself: a
tick that finds it running is skipped and counted in
ghsync_schedule_skipped_total. Failed runs are retried with backoff; runs
queued with ` + "`ghsync run JOB --via-queue`" + ` are worked too. See docs/schedules.md.

Webhook secrets come from webhooks.secrets in the config (a list, for rotation)
or GHSYNC_WEBHOOK_SECRET. Without one the webhook endpoint answers 503 (and says
so at startup) while everything else runs; webhooks.insecure_no_signature: true
accepts unsigned deliveries (local testing only). SIGTERM/SIGINT shut it down
gracefully.`,
		Example: "  GHSYNC_WEBHOOK_SECRET=… GHSYNC_SERVE_TOKEN=$(openssl rand -hex 32) ghsync serve --addr 0.0.0.0:8080 --database postgres://ghsync@db/ghsync",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := sf.check(addr, database); err != nil {
				return err
			}
			cfg, scheduled, err := a.loadScheduledConfig()
			if err != nil {
				return err
			}
			scheduled, err = withPolled(cfg, scheduled)
			if err != nil {
				return err
			}
			opts, err := a.serveOptions(cmd.Context(), cfg, addr, database)
			if err != nil {
				return err
			}
			if database == "" {
				if err := checkStateDB(configName(cfg)+": database", opts.DatabaseURL); err != nil {
					return err
				}
			}
			a.logger.Info("ghsync serve starting", "addr", opts.Addr, "webhooks", opts.WebhookPath, "schedules", len(scheduled))
			srv, err := serve.New(cmd.Context(), opts)
			if errors.Is(err, serve.ErrUnprotected) {
				if cfg.File != "" {
					err = fmt.Errorf("%s: %w", cfg.File, err)
				}
				return jobs.Usage(err)
			}
			if err != nil {
				return err
			}
			runner := a.runner(cfg)
			runner.DB = srv.DB() // jobs that need the database share serve's
			runner.Registerer = srv.Registry()
			runner.Env().UseLogDownloader(srv.Logs()) // reconcile queues logs on serve's downloader
			sched, err := scheduler.New(cmd.Context(), scheduler.Config{
				DB: srv.DB(), DatabaseURL: opts.DatabaseURL, Jobs: scheduled, Runner: runner,
				ReplicaID: sf.replicaID, Logger: a.logger, Registerer: srv.Registry(), Workers: sf.workers,
				JobTimeout: sf.jobTimeout, RescueAfter: sf.rescueAfter, LockTTL: sf.lockTTL,
				MaxAttempts: sf.maxAttempts, Hold: sf.hold,
			})
			if err != nil {
				srv.Close()
				return fmt.Errorf("scheduler: %w", err)
			}
			srv.AddService(sched)
			srv.Handle("GET /api/runs", scheduler.RunsHandler(srv.DB(), a.logger))
			uo := ui.Options{DB: srv.DB(), Logger: a.logger, Metrics: srv.Registry()}
			if srv.AuthRequired() {
				uo.SignOutPath = serve.LogoutPath
			}
			uiHandler, closeUI, err := ui.ForConfig(cmd.Context(), cfg, uo)
			if err != nil {
				srv.Close()
				return err
			}
			defer closeUI()
			srv.Handle("/", uiHandler) // web UI under /ui/ (and the HUD under /ui/hud/), see docs/ui.md
			return srv.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	cmd.Flags().StringVar(&database, "database", "", "ghsync's own database: sqlite://PATH or postgres://… (default: the config's database:, else sqlite://./data/ghsync.db)")
	sf.add(cmd)
	return cmd
}

// serveOptions builds the server's options from the config, flags and
// environment (serve.ConfigOptions; the GitHub client for log downloads is
// built from the config's github section as the jobs' is).
func (a *app) serveOptions(ctx context.Context, cfg *config.Config, addr, database string) (serve.Options, error) {
	opts, err := serve.ConfigOptions(ctx, cfg, a.env.Getenv, func(ctx context.Context) (logs.APIClient, error) {
		env := jobs.NewEnv(cfg, a.logger, a.env.Getenv, nil, nil)
		env.GitHubRetryBase = a.env.GitHubRetryBase
		return env.GitHub(ctx)
	})
	if err != nil {
		return opts, err
	}
	opts.Addr, opts.Logger = addr, a.logger
	if err := serve.ConfigAuth(ctx, cfg, a.env.Getenv, &opts); err != nil {
		return opts, err
	}
	if database != "" {
		opts.DatabaseURL = database
	}
	return opts, nil
}

// withPolled adds the jobs that poll a store (inbox jobs without a
// schedule of their own) to the schedules, every their poll interval.
func withPolled(cfg *config.Config, scheduled []schedule.Job) ([]schedule.Job, error) {
	for _, p := range jobs.Builtin().Polled(cfg) {
		s, err := schedule.Parse("@every "+p.Every.String(), "")
		if err != nil {
			return nil, fmt.Errorf("job %s: poll every %s: %w", p.Job.Name, p.Every, err)
		}
		scheduled = append(scheduled, schedule.Job{Name: p.Job.Name, Schedule: s})
	}
	return scheduled, nil
}
