package logs

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/ghsync/ghsync/internal/db"
)

// Job is a completed workflow job whose log may be downloaded.
type Job struct {
	Repo       string // OWNER/REPO
	ID         int64  // workflow job id
	Conclusion string
	DeliveryID string // the delivery that reported completion
}

// Key is the workflow_job row key, OWNER/REPO/JOB_ID.
func (j Job) Key() string { return j.Repo + "/" + strconv.FormatInt(j.ID, 10) }

// queued is a claimed row of log_downloads.
type queued struct {
	pk       int64
	Job      Job
	attempts int
}

// EnqueueTx queues j in tx (the transaction projecting its completed
// delivery) when the Policy wants its log. A job already queued (a
// redelivery, a re-sent completed event) is not queued twice. It reports
// whether a row was added; call Wake after the transaction commits.
func (d *Downloader) EnqueueTx(ctx context.Context, tx *db.Tx, j Job) (bool, error) {
	if !d.o.Policy.Wants(j.Repo, j.Conclusion) {
		return false, nil
	}
	now := db.Now()
	res, err := tx.Exec(ctx, `INSERT INTO log_downloads (job_key, repo, job_id, conclusion, delivery_id, state, attempts, next_attempt_at, created_at)
 VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (job_key) DO NOTHING`,
		j.Key(), j.Repo, j.ID, nullStr(j.Conclusion), j.DeliveryID, now, now)
	if err != nil {
		return false, fmt.Errorf("queue log download %s: %w", j.Key(), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("queue log download %s: %w", j.Key(), err)
	}
	if n > 0 {
		d.m.queued.Inc()
	}
	return n > 0, nil
}

// claim takes up to n downloads due at asOf (pending and due, or running
// with an expired lease; asOf in db.TimeLayout) and marks them running under
// a lease.
func (d *Downloader) claim(ctx context.Context, n int, asOf string) ([]queued, error) {
	now := asOf
	rows, err := d.o.DB.Query(ctx, `SELECT id, job_key, repo, job_id, conclusion, delivery_id, attempts FROM log_downloads
 WHERE (state = 'pending' AND next_attempt_at <= ?) OR (state = 'running' AND lease_until < ?)
 ORDER BY next_attempt_at, id LIMIT ?`, now, now, n)
	if err != nil {
		return nil, fmt.Errorf("select log downloads: %w", err)
	}
	var cand []queued
	for rows.Next() {
		var q queued
		var key string
		var concl sql.NullString
		if err := rows.Scan(&q.pk, &key, &q.Job.Repo, &q.Job.ID, &concl, &q.Job.DeliveryID, &q.attempts); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan log downloads: %w", err)
		}
		q.Job.Conclusion = concl.String
		cand = append(cand, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select log downloads: %w", err)
	}
	if len(cand) == 0 {
		return nil, nil
	}
	// One transaction (one fsync) claims the whole batch: the receiver shares
	// the database's single writer.
	lease := db.FormatTime(time.Now().Add(d.o.Lease))
	tx, err := d.o.DB.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim log downloads: %w", err)
	}
	defer tx.Rollback()
	var out []queued
	for _, q := range cand {
		res, err := tx.Exec(ctx, `UPDATE log_downloads SET state = 'running', lease_until = ?
 WHERE id = ? AND ((state = 'pending' AND next_attempt_at <= ?) OR (state = 'running' AND lease_until < ?))`, lease, q.pk, now, now)
		if err != nil {
			return nil, fmt.Errorf("claim log download %s: %w", q.Job.Key(), err)
		}
		if k, err := res.RowsAffected(); err == nil && k == 1 {
			out = append(out, q)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim log downloads: commit: %w", err)
	}
	return out, nil
}

// release puts a cancelled download back in the queue without counting an attempt.
func (d *Downloader) release(q queued) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := d.o.DB.Exec(ctx, `UPDATE log_downloads SET state = 'pending', lease_until = NULL WHERE id = ? AND state = 'running'`, q.pk); err != nil {
		d.log.Warn("could not put a cancelled log download back; it resumes when its lease expires", "job", q.Job.Key(), "err", err)
	}
}

// backoff is the delay before attempt n+1: RetryBase·2^(n-1), at most 10
// minutes, ±20% jitter.
func (d *Downloader) backoff(n int) time.Duration {
	b := d.o.RetryBase
	for i := 1; i < n && b < 10*time.Minute; i++ {
		b *= 2
	}
	b = min(b, 10*time.Minute)
	return time.Duration(float64(b) * (0.8 + 0.4*rand.Float64()))
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}
