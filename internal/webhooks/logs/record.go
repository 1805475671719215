package logs

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ghsync/ghsync/internal/db"
)

// outcome is the result of one download attempt, to be recorded.
type outcome struct {
	q          queued
	stored     bool
	logBytes   int64
	classified int64
	matchJSON  []byte
	rule       string
	// failed attempts
	cause error
	retry bool
	state string // pending, failed, gone
}

// newFailure decides what a failed attempt becomes: retried after a
// backoff, or final (failed, or gone for an expired log).
func (d *Downloader) newFailure(q queued, cause error, final bool, state string) outcome {
	o := outcome{q: q, cause: cause, retry: !final && q.attempts+1 < d.o.MaxAttempts, state: state}
	switch {
	case o.retry:
		o.state = "pending"
	case o.state == "":
		o.state = "failed"
	}
	return o
}

// apply writes o in tx: the queue row, and for a stored log the
// classification on the queue row (log_downloads.classification, where the
// DynamoDB syncer finds it when projections are written only to DynamoDB)
// and on the workflow_job row (no row when projections are not kept in
// SQL), plus AfterRecord.
func (d *Downloader) apply(ctx context.Context, tx *db.Tx, o outcome) error {
	key := o.q.Job.Key()
	if o.stored {
		if _, err := tx.Exec(ctx, `UPDATE log_downloads SET state = 'done', attempts = attempts + 1, lease_until = NULL, last_error = NULL,
 log_bytes = ?, classified_bytes = ?, rule = ?, classification = ?, done_at = ? WHERE id = ?`, o.logBytes, o.classified, nullStr(o.rule), string(o.matchJSON), db.Now(), o.q.pk); err != nil {
			return fmt.Errorf("record log %s: %w", key, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE workflow_job SET classification = ?, classification_rule = ? WHERE key = ?`,
			string(o.matchJSON), nullStr(o.rule), key); err != nil {
			return fmt.Errorf("record classification of %s: %w", key, err)
		}
		if d.o.AfterRecord != nil {
			if err := d.o.AfterRecord(ctx, tx, key); err != nil {
				return fmt.Errorf("record classification of %s: %w", key, err)
			}
		}
		return nil
	}
	msg := o.cause.Error()
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	next := db.FormatTime(time.Now().Add(d.backoff(o.q.attempts + 1)))
	if _, err := tx.Exec(ctx, `UPDATE log_downloads SET state = ?, attempts = ?, lease_until = NULL, last_error = ?, next_attempt_at = ? WHERE id = ?`,
		o.state, o.q.attempts+1, msg, next, o.q.pk); err != nil {
		return fmt.Errorf("record failed log download %s: %w", key, err)
	}
	return nil
}

// recorder group-commits outcomes: concurrent downloads finishing together
// share one transaction (one fsync), so the downloader adds few writes to
// the database the webhook receiver commits to. The first caller becomes
// the leader and commits batches until none is pending; the others wait for
// their own result. No goroutine of its own.
type recorder struct {
	mu      sync.Mutex
	pending []*recReq
	leading bool
}

type recReq struct {
	o    outcome
	err  error
	done chan struct{}
}

// record durably records o (batched with concurrent calls).
func (d *Downloader) record(ctx context.Context, o outcome) error {
	r := &recReq{o: o, done: make(chan struct{})}
	rc := &d.rec
	rc.mu.Lock()
	rc.pending = append(rc.pending, r)
	if rc.leading {
		rc.mu.Unlock()
		<-r.done
		return r.err
	}
	rc.leading = true
	for len(rc.pending) > 0 {
		batch := rc.pending
		rc.pending = nil
		rc.mu.Unlock()
		d.recordBatch(ctx, batch)
		rc.mu.Lock()
	}
	rc.leading = false
	rc.mu.Unlock()
	<-r.done
	return r.err
}

func (d *Downloader) recordBatch(ctx context.Context, batch []*recReq) {
	ctx = context.WithoutCancel(ctx) // a finished download is recorded even during Stop
	err := d.recordTx(ctx, batch)
	if err != nil && len(batch) > 1 {
		for _, r := range batch { // one bad outcome must not fail the others
			r.err = d.recordTx(ctx, []*recReq{r})
			close(r.done)
		}
		return
	}
	for _, r := range batch {
		r.err = err
		close(r.done)
	}
}

func (d *Downloader) recordTx(ctx context.Context, batch []*recReq) error {
	tx, err := d.o.DB.Begin(ctx)
	if err != nil {
		return fmt.Errorf("record log downloads: %w", err)
	}
	defer tx.Rollback()
	for _, r := range batch {
		if err := d.apply(ctx, tx, r.o); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record log downloads: commit: %w", err)
	}
	return nil
}
