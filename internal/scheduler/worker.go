package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/schedule"
)

// JobKind is the River job kind of every ghsync job run.
const JobKind = "ghsync_job"

// JobArgs are the arguments of a queued run.
type JobArgs struct {
	// Job is the configured job's name.
	Job string `json:"job"`
	// DryRun plans without changing anything.
	DryRun bool `json:"dry_run,omitempty"`
	// ScheduledAt is the schedule tick (or the enqueue time for manual runs).
	// Queued runs are unique by their arguments, so a tick is queued at most
	// once however many replicas compute it.
	ScheduledAt time.Time `json:"scheduled_at"`
}

// Kind implements river.JobArgs.
func (JobArgs) Kind() string { return JobKind }

// InsertOpts implements river.JobArgsWithInsertOpts: unique by arguments.
func (JobArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// worker runs queued jobs through the Runner, one at a time per job name
// across every replica (the lease in ghsync_job_locks).
type worker struct {
	river.WorkerDefaults[JobArgs]
	s *Scheduler
}

// Work runs one attempt of a queued job.
func (w *worker) Work(ctx context.Context, job *river.Job[JobArgs]) error {
	s := w.s
	a := job.Args
	tick := a.ScheduledAt
	if tick.IsZero() {
		tick = job.ScheduledAt
	}
	log := s.log.With("job", a.Job, "queue_job_id", job.ID, "attempt", job.Attempt, "tick", tick.UTC().Format(time.RFC3339))
	now := time.Now()
	run := &Run{Job: a.Job, QueueJobID: job.ID, Attempt: job.Attempt, DryRun: a.DryRun, ScheduledAt: tick,
		StartedAt: now, Replica: s.cfg.ReplicaID}
	if job.Attempt > 1 {
		if n, err := s.hist.abandon(ctx, job.ID, job.Attempt, now); err != nil {
			log.Warn("marking abandoned attempts failed", "err", err)
		} else if n > 0 {
			log.Warn("retrying a run whose replica stopped mid-run", "abandoned", n)
		}
	}
	holder := holderOf(job.ID, job.Attempt, s.cfg.ReplicaID)
	ok, cur, err := s.locks.acquire(ctx, a.Job, holder, fmt.Sprintf("q%d/", job.ID), now)
	if err != nil {
		return err
	}
	if !ok {
		run.Error = s.hist.skipReason(ctx, cur, s.cfg.ReplicaID, now)
		s.metrics.skipped.WithLabelValues(a.Job).Inc()
		log.Warn("schedule tick skipped: "+run.Error, "lease_holder", cur)
		if err := s.hist.skipped(ctx, run); err != nil {
			log.Error("recording skipped tick failed", "err", err)
		}
		return nil
	}
	return s.runLocked(ctx, run, holder, log)
}

// runLocked runs the job while holding its lease and records the outcome.
func (s *Scheduler) runLocked(ctx context.Context, run *Run, holder string, log *slog.Logger) error {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := s.locks.keepAlive(runCtx, run.Job, holder, cancel)
	defer func() {
		stop()
		rctx, c := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer c()
		if err := s.locks.release(rctx, run.Job, holder); err != nil {
			log.Warn("releasing run lock failed (it expires by itself)", "err", err)
		}
	}()
	id, err := s.hist.start(ctx, run)
	if err != nil {
		return err
	}
	log.Info("job run started", "dry_run", run.DryRun) // the logger already names the replica
	summary, runErr := s.execute(runCtx, run)
	if cause := context.Cause(runCtx); runErr != nil && errors.Is(cause, errLockLost) {
		runErr = fmt.Errorf("%w: %w", cause, runErr)
	}
	end := time.Now()
	outcome, errText := OutcomeOK, ""
	if runErr != nil {
		outcome, errText = OutcomeFailed, runErr.Error()
	}
	fctx, c := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer c()
	if err := s.hist.finish(fctx, id, end, outcome, summary, errText); err != nil {
		log.Error("recording run end failed", "err", err)
	}
	if err := s.hist.prune(fctx, run.Job, end); err != nil {
		log.Warn("pruning run history failed", "err", err)
	}
	s.metrics.runs.WithLabelValues(run.Job, outcome).Inc()
	s.metrics.duration.WithLabelValues(run.Job).Observe(end.Sub(run.StartedAt).Seconds())
	if runErr != nil {
		log.Error("job run failed", "duration", end.Sub(run.StartedAt).Round(time.Millisecond), "err", runErr)
		if errors.Is(runErr, jobs.ErrUsage) {
			return river.JobCancel(runErr) // configuration problems do not heal by retrying
		}
		return runErr
	}
	log.Info("job run finished", "duration", end.Sub(run.StartedAt).Round(time.Millisecond))
	return nil
}

// execute waits Config.Hold (tests) and runs the job; it returns the
// summary as JSON.
func (s *Scheduler) execute(ctx context.Context, run *Run) ([]byte, error) {
	if s.cfg.Hold > 0 {
		select {
		case <-time.After(s.cfg.Hold):
		case <-ctx.Done():
			return nil, fmt.Errorf("run %s: %w", run.Job, context.Cause(ctx))
		}
	}
	res, err := s.cfg.Runner.Run(ctx, run.Job, jobs.RunOptions{DryRun: run.DryRun})
	if res == nil || res.Summary == nil {
		return nil, err
	}
	b, jerr := json.Marshal(res.Summary)
	if jerr != nil {
		return nil, errors.Join(err, fmt.Errorf("encode summary: %w", jerr))
	}
	return b, err
}

// tickSchedule adapts a schedule to river.PeriodicSchedule and remembers the
// tick it last computed: River's periodic enqueuer calls the job constructor
// for a tick before asking for the following one, so the constructor can
// name the tick it enqueues.
type tickSchedule struct {
	s    *schedule.Schedule
	mu   sync.Mutex
	last time.Time
}

// Next implements river.PeriodicSchedule.
func (t *tickSchedule) Next(current time.Time) time.Time {
	n := t.s.Next(current)
	if n.IsZero() {
		n = current.Add(100 * 365 * 24 * time.Hour) // never again: far future
	}
	t.mu.Lock()
	t.last = n
	t.mu.Unlock()
	return n
}

func (t *tickSchedule) pending() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}
