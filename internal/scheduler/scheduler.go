// Package scheduler runs ghsync jobs on their schedules through River
// (riverqueue), on SQLite (one process) or PostgreSQL (several replicas
// sharing the work).
//
// Every run, scheduled or enqueued by hand, is a River job of kind
// "ghsync_job" with arguments {job, dry_run, scheduled_at}:
//
//   - Schedule ticks are enqueued by River's periodic-job enqueuer, which runs
//     on the elected leader only; queued runs are unique by their arguments,
//     so each tick is queued once across the fleet.
//   - A job never overlaps itself: a run holds a lease on the job
//     (ghsync_job_locks, renewed while it runs). A tick that finds the lease
//     held is skipped, logged, recorded in the history and counted in
//     ghsync_schedule_skipped_total{job}.
//   - Failed runs are retried with River's backoff, up to MaxAttempts.
//     Configuration errors (jobs.ErrUsage) are not retried.
//   - A replica that dies mid-run leaves its River job "running"; River's
//     rescuer (on the leader) makes it retryable after RescueAfter, and
//     another replica retries it once the dead replica's lease has expired
//     (LockTTL). The abandoned attempt is marked so in the history.
//   - Run history (ghsync_runs: start, end, outcome, summary JSON, error,
//     replica) is written by the replica running the job and pruned after
//     each run to the newest KeepRuns rows per job and at most KeepFor old.
//
// Usage:
//
//	s, err := scheduler.New(ctx, scheduler.Config{DB: d, DatabaseURL: url, Jobs: jobs,
//		Runner: runner, Logger: log, Registerer: reg})
//	err = s.Start(ctx)
//	…
//	err = s.Stop(ctx) // finishes running jobs (or cancels them when ctx ends)
//
// With a nil Runner the scheduler only enqueues ([Scheduler.Enqueue]), which
// is what `ghsync run JOB --via-queue` does.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/schedule"
	"github.com/ghsync/ghsync/internal/slogx"
)

// Runner runs a configured job once; *jobs.Runner implements it.
type Runner interface {
	Run(ctx context.Context, name string, ro jobs.RunOptions) (*jobs.Result, error)
}

// Config configures a [Scheduler]. Zero durations and counts take the
// documented defaults.
type Config struct {
	// DB is the database for run history and locks (required); with SQLite it
	// is also River's database.
	DB *db.DB
	// DatabaseURL is the URL DB was opened with; required for PostgreSQL,
	// where River uses its own pgx pool.
	DatabaseURL string
	// Jobs are the scheduled jobs (see schedule.FromConfig).
	Jobs []schedule.Job
	// Runner runs jobs. Nil makes an enqueue-only scheduler (no Start).
	Runner Runner
	// ReplicaID names this process in the history and in River; default
	// HOSTNAME-PID.
	ReplicaID string
	// Logger receives logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the scheduler's metrics; nil = not exported.
	Registerer prometheus.Registerer
	// Workers is how many runs (of different jobs) this replica works at
	// once; default 4.
	Workers int
	// JobTimeout cancels a run that takes longer; default 1 hour.
	JobTimeout time.Duration
	// RescueAfter is how long a run may stay "running" before River's rescuer
	// (on the leader) considers its replica dead and retries it elsewhere;
	// default JobTimeout + 1 minute; at least JobTimeout.
	RescueAfter time.Duration
	// LockTTL is the lease of a running job, renewed every LockTTL/4; a dead
	// replica's job is free again after it. Default 1 minute; it should be
	// shorter than RescueAfter.
	LockTTL time.Duration
	// MaxAttempts bounds the attempts of a failing run (River backs off
	// between them); default 3.
	MaxAttempts int
	// PollInterval is how often idle replicas poll for queued runs (PostgreSQL
	// also notifies); default 1 second.
	PollInterval time.Duration
	// KeepRuns and KeepFor bound the run history per job; defaults 100 rows
	// and 30 days.
	KeepRuns int
	KeepFor  time.Duration
	// Hold delays every run by this long while holding its lock (testing
	// overlap and failover); 0 in production.
	Hold time.Duration
}

// Scheduler runs and enqueues ghsync jobs through River.
type Scheduler struct {
	cfg     Config
	log     *slog.Logger
	hist    *history
	locks   *locks
	metrics *metrics
	engine  engine
	pool    *pgxpool.Pool // PostgreSQL only
	started bool
}

var replicaIDRE = regexp.MustCompile(`[^A-Za-z0-9._:-]+`)

// DefaultReplicaID is HOSTNAME-PID.
func DefaultReplicaID() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "ghsync"
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

func (c *Config) setDefaults() error {
	if c.DB == nil {
		return errors.New("scheduler: Config.DB is required")
	}
	if c.DB.Dialect() == db.Postgres && c.DatabaseURL == "" {
		return errors.New("scheduler: Config.DatabaseURL is required with PostgreSQL")
	}
	if c.ReplicaID == "" {
		c.ReplicaID = DefaultReplicaID()
	}
	c.ReplicaID = replicaIDRE.ReplaceAllString(c.ReplicaID, "_")
	if len(c.ReplicaID) > 90 {
		c.ReplicaID = c.ReplicaID[:90]
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = time.Hour
	}
	if c.RescueAfter <= 0 {
		c.RescueAfter = c.JobTimeout + time.Minute
	}
	if c.RescueAfter < c.JobTimeout {
		return fmt.Errorf("scheduler: RescueAfter (%s) must be at least JobTimeout (%s)", c.RescueAfter, c.JobTimeout)
	}
	if c.LockTTL <= 0 {
		c.LockTTL = time.Minute
	}
	if c.LockTTL < 400*time.Millisecond {
		return fmt.Errorf("scheduler: LockTTL (%s) must be at least 400ms", c.LockTTL)
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.KeepRuns <= 0 {
		c.KeepRuns = 100
	}
	if c.KeepFor <= 0 {
		c.KeepFor = 30 * 24 * time.Hour
	}
	seen := map[string]bool{}
	for _, j := range c.Jobs {
		if j.Schedule == nil || j.Name == "" {
			return fmt.Errorf("scheduler: job %q has no schedule", j.Name)
		}
		if seen[j.Name] {
			return fmt.Errorf("scheduler: job %q is listed twice", j.Name)
		}
		seen[j.Name] = true
	}
	return nil
}

// New validates cfg, migrates the run-history tables and River's schema, and
// builds the River client. Call Close (or Start then Stop) to release it.
func New(ctx context.Context, cfg Config) (*Scheduler, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Scheduler{cfg: cfg, log: cfg.Logger.With("component", "scheduler", "replica", cfg.ReplicaID)}
	var err error
	if s.metrics, err = newMetrics(cfg.Registerer); err != nil {
		return nil, fmt.Errorf("scheduler metrics: %w", err)
	}
	if err := Migrate(ctx, cfg.DB); err != nil {
		return nil, err
	}
	s.hist = &history{d: cfg.DB, keepRuns: cfg.KeepRuns, keepFor: cfg.KeepFor}
	s.locks = &locks{d: cfg.DB, ttl: cfg.LockTTL, log: s.log}
	if err := s.openEngine(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// riverConfig is the River client configuration for this scheduler.
func (s *Scheduler) riverConfig() *river.Config {
	workers := river.NewWorkers()
	river.AddWorker(workers, &worker{s: s})
	rc := &river.Config{
		ID:                   s.cfg.ReplicaID,
		Logger:               slogx.DemoteInfo(s.cfg.Logger.With("component", "river")), // "Producer job counts" and the like
		JobTimeout:           s.cfg.JobTimeout,
		RescueStuckJobsAfter: s.cfg.RescueAfter,
		MaxAttempts:          s.cfg.MaxAttempts,
		FetchPollInterval:    s.cfg.PollInterval,
		Workers:              workers,
	}
	if s.cfg.Runner == nil {
		return rc
	}
	rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: s.cfg.Workers}}
	for _, j := range s.cfg.Jobs {
		ts := &tickSchedule{s: j.Schedule}
		name := j.Name
		rc.PeriodicJobs = append(rc.PeriodicJobs, river.NewPeriodicJob(ts, func() (river.JobArgs, *river.InsertOpts) {
			tick := ts.pending()
			if tick.IsZero() {
				tick = time.Now()
			}
			s.metrics.enqueued.WithLabelValues(name).Inc()
			return JobArgs{Job: name, ScheduledAt: tick.UTC()}, nil
		}, nil))
	}
	return rc
}

// Start starts working queued runs and, on the elected leader, enqueueing
// schedule ticks. It returns once started.
func (s *Scheduler) Start(ctx context.Context) error {
	if s.cfg.Runner == nil {
		return errors.New("scheduler: Start needs a Runner (this scheduler only enqueues)")
	}
	if err := s.engine.Start(ctx); err != nil {
		return fmt.Errorf("start scheduler: %w", err)
	}
	s.started = true
	names := make([]string, 0, len(s.cfg.Jobs))
	for _, j := range s.cfg.Jobs {
		names = append(names, j.Name+"="+j.Schedule.String())
	}
	s.log.Info("scheduler started", "database", s.cfg.DB.String(), "schedules", names, "workers", s.cfg.Workers)
	return nil
}

// Stop stops fetching new runs, waits for running ones to finish, and
// releases the scheduler's resources. When ctx ends first, running jobs are
// cancelled (River retries them later, elsewhere if this replica is gone).
func (s *Scheduler) Stop(ctx context.Context) error {
	var err error
	if s.started {
		if err = s.engine.Stop(ctx); err != nil && ctx.Err() != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			err = s.engine.StopAndCancel(cctx)
			cancel()
		}
		s.started = false
		if err != nil {
			err = fmt.Errorf("stop scheduler: %w", err)
		}
	}
	s.log.Info("scheduler stopped")
	return errors.Join(err, s.Close())
}

// Close releases the River client's resources without stopping it; use it
// when Start was never called. The database given in Config stays open.
func (s *Scheduler) Close() error {
	if s.pool != nil {
		s.pool.Close()
		s.pool = nil
	}
	return nil
}

// Enqueue queues one run of job now and returns River's job id. Unknown jobs
// are not checked here (the CLI checks the config); the worker records a
// failure for them.
func (s *Scheduler) Enqueue(ctx context.Context, job string, dryRun bool) (int64, error) {
	res, err := s.engine.insert(ctx, JobArgs{Job: job, DryRun: dryRun, ScheduledAt: time.Now().UTC()}, nil)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", job, err)
	}
	return res.Job.ID, nil
}

// ReplicaID is this scheduler's replica name.
func (s *Scheduler) ReplicaID() string { return s.cfg.ReplicaID }
