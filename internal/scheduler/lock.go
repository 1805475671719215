package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ghsync/ghsync/internal/db"
)

// errLockLost cancels a run whose lease could not be kept.
var errLockLost = errors.New("lost the job's run lock (lease expired or taken over)")

// locks are per-job leases in ghsync_job_locks: at most one holder per job,
// renewed while the run goes on, free once expires_at has passed (so a
// replica that dies frees its jobs after the TTL). Times come from the
// replicas' clocks, which must agree to well within the TTL.
type locks struct {
	d   *db.DB
	ttl time.Duration
	log *slog.Logger
}

// acquire takes job's lease for holder. It succeeds when the job is free,
// its lease has expired, or the current holder starts with takeover (an
// earlier attempt of the same queued job, whose replica died). It returns the
// current holder when it fails.
func (l *locks) acquire(ctx context.Context, job, holder, takeover string, now time.Time) (bool, string, error) {
	res, err := l.d.Exec(ctx, `INSERT INTO ghsync_job_locks (job, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE ghsync_job_locks.expires_at < ? OR ghsync_job_locks.holder LIKE ?`,
		job, holder, formatTime(now.Add(l.ttl)), formatTime(now), takeover+"%")
	if err != nil {
		return false, "", fmt.Errorf("lock job %s: %w", job, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, "", fmt.Errorf("lock job %s: %w", job, err)
	} else if n == 1 {
		return true, "", nil
	}
	var cur string
	if err := l.d.W.QueryRowContext(ctx, l.d.Rebind(`SELECT holder FROM ghsync_job_locks WHERE job = ?`), job).Scan(&cur); err != nil {
		cur = "(unknown)"
	}
	return false, cur, nil
}

// renew extends holder's lease; false when the lease is no longer held.
func (l *locks) renew(ctx context.Context, job, holder string, now time.Time) (bool, error) {
	res, err := l.d.Exec(ctx, `UPDATE ghsync_job_locks SET expires_at = ? WHERE job = ? AND holder = ?`,
		formatTime(now.Add(l.ttl)), job, holder)
	if err != nil {
		return false, fmt.Errorf("renew lock of %s: %w", job, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// release frees the lease if holder still has it.
func (l *locks) release(ctx context.Context, job, holder string) error {
	if _, err := l.d.Exec(ctx, `DELETE FROM ghsync_job_locks WHERE job = ? AND holder = ?`, job, holder); err != nil {
		return fmt.Errorf("unlock job %s: %w", job, err)
	}
	return nil
}

// keepAlive renews the lease every ttl/4 until the returned stop function is
// called. When the lease is lost, or cannot be renewed for a whole ttl, it
// calls cancel so that the run stops before another replica may start it.
func (l *locks) keepAlive(ctx context.Context, job, holder string, cancel context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(l.ttl / 4)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now := time.Now()
			rctx, c := context.WithTimeout(ctx, l.ttl/4)
			ok, err := l.renew(rctx, job, holder, now)
			c()
			switch {
			case err == nil && ok:
				last = now
				continue
			case err == nil && !ok:
				l.log.Error("run lock lost; stopping the run", "job", job, "holder", holder)
				cancel(errLockLost)
				return
			case now.Sub(last) >= l.ttl:
				l.log.Error("run lock could not be renewed for a whole lease; stopping the run", "job", job, "err", err)
				cancel(fmt.Errorf("%w: %v", errLockLost, err))
				return
			default:
				l.log.Warn("renewing run lock failed; retrying", "job", job, "err", err)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
