package webhooks

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/webhooks/logs"
)

// workBatch is how many deliveries one processing transaction handles.
const workBatch = 64

// coalesce is how long the worker waits after a wake-up before processing.
const coalesce = 25 * time.Millisecond

// idleRecheck is how often the worker looks for due retries without a wake-up.
const idleRecheck = time.Second

// workLoop processes stored deliveries until ctx ends: at start (crash
// recovery), whenever the committer wakes it, and periodically for retries.
func (s *Service) workLoop(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		n, err := s.ProcessPending(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Error("processing webhook deliveries", "err", err)
		}
		if n >= workBatch && err == nil {
			continue // more may be waiting
		}
		t.Reset(idleRecheck)
		select {
		case <-ctx.Done():
			return
		case <-s.poke:
			// Let a few more deliveries arrive so that one processing
			// transaction (one fsync) covers them: under load this keeps the
			// single SQLite writer free for the receiver most of the time.
			select {
			case <-ctx.Done():
				return
			case <-time.After(coalesce):
			}
		case <-t.C:
		}
	}
}

type pending struct {
	id         int64
	deliveryID string
	event      string
	receivedAt string
	attempts   int
	payload    []byte
}

// ProcessPending projects one batch of stored deliveries that are due
// (unprocessed, under the attempt limit, retry time reached) and reports how
// many it handled. Payloads are decoded before the write transaction; the
// writes of the whole batch share one transaction. A delivery whose projection
// fails is rolled back alone and scheduled for a retry with exponential
// backoff; the others are committed. Each delivery is projected exactly once,
// even with several servers on one database: its processed_at is set, on the
// condition that it was still unset, in the same transaction as its projection.
func (s *Service) ProcessPending(ctx context.Context) (int, error) {
	d := s.cfg.DB
	rows, err := d.Query(ctx, `SELECT d.id, d.delivery_id, d.event, d.received_at, d.attempts, p.payload
 FROM deliveries d JOIN delivery_payloads p ON p.delivery_pk = d.id
 WHERE d.processed_at IS NULL AND d.attempts < ? AND d.next_attempt_at <= ?
 ORDER BY d.id LIMIT ?`, s.cfg.MaxAttempts, db.Now(), workBatch)
	if err != nil {
		return 0, fmt.Errorf("process deliveries: select: %w", err)
	}
	var batch []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.id, &p.deliveryID, &p.event, &p.receivedAt, &p.attempts, &p.payload); err != nil {
			rows.Close()
			return 0, fmt.Errorf("process deliveries: scan: %w", err)
		}
		batch = append(batch, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("process deliveries: rows: %w", err)
	}
	if len(batch) == 0 {
		return 0, nil
	}
	projs := make([][]projRow, len(batch))
	perrs := make([]error, len(batch))
	for i, p := range batch {
		projs[i], perrs[i] = project(p.event, p.deliveryID, p.receivedAt, p.payload)
	}

	type applied struct {
		table string
		ok    bool
	}
	var results []applied
	var lags []float64
	failed := 0
	logsQueued, dynamoQueued := false, false
	tx, err := d.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("process deliveries: %w", err)
	}
	defer tx.Rollback()
	for i, p := range batch {
		if _, err := tx.Exec(ctx, "SAVEPOINT delivery"); err != nil {
			return 0, fmt.Errorf("process deliveries: savepoint: %w", err)
		}
		var res []applied
		done := false
		perr := perrs[i]
		if perr == nil {
			perr = func() error {
				r, err := tx.Exec(ctx, "UPDATE deliveries SET processed_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ? AND processed_at IS NULL", db.Now(), p.id)
				if err != nil {
					return fmt.Errorf("mark processed: %w", err)
				}
				if n, err := r.RowsAffected(); err != nil || n == 0 {
					done = true // processed meanwhile by another worker
					return err
				}
				for _, r := range projs[i] {
					ok, err := s.projectRow(ctx, tx, r, p.deliveryID, p.receivedAt)
					if err != nil {
						return err
					}
					res = append(res, applied{r.table, ok})
					dynamoQueued = dynamoQueued || (ok && s.cfg.Dynamo.Writer != nil)
					if q, err := s.queueLog(ctx, tx, r, p.deliveryID); err != nil {
						return err
					} else if q {
						logsQueued = true
					}
				}
				return nil
			}()
		}
		if perr != nil {
			if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT delivery"); err != nil {
				return 0, fmt.Errorf("process deliveries: rollback to savepoint: %w", err)
			}
			failed++
			next := time.Now().Add(s.backoff(p.attempts + 1))
			msg := perr.Error()
			if len(msg) > 2000 {
				msg = msg[:2000]
			}
			if _, err := tx.Exec(ctx, "UPDATE deliveries SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ? AND processed_at IS NULL",
				msg, db.FormatTime(next), p.id); err != nil {
				return 0, fmt.Errorf("process deliveries: record failure of %s: %w", p.deliveryID, err)
			}
			s.log.Warn("processing webhook delivery failed", "delivery", p.deliveryID, "event", p.event,
				"attempt", p.attempts+1, "max_attempts", s.cfg.MaxAttempts, "err", perr)
		} else if !done {
			results = append(results, res...)
			if t, err := db.ParseTime(p.receivedAt); err == nil {
				lags = append(lags, time.Since(t).Seconds())
			}
		}
		if _, err := tx.Exec(ctx, "RELEASE SAVEPOINT delivery"); err != nil {
			return 0, fmt.Errorf("process deliveries: release savepoint: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("process deliveries: commit: %w", err)
	}
	if logsQueued {
		s.cfg.Logs.Wake()
	}
	if dynamoQueued {
		select {
		case s.dynamoPoke <- struct{}{}:
		default:
		}
	}
	for _, r := range results {
		res := "applied"
		if !r.ok {
			res = "stale"
		}
		s.m.projections.WithLabelValues(r.table, res).Inc()
	}
	for _, l := range lags {
		s.m.lag.Observe(l)
	}
	s.m.failures.Add(float64(failed))
	if failed > 0 && failed == len(batch) {
		return len(batch), errors.New("every delivery in the batch failed; see last_error")
	}
	return len(batch), nil
}

// backoff is the delay before attempt n+1: RetryBase·2^(n-1), at most 10
// minutes, with ±20% jitter.
func (s *Service) backoff(n int) time.Duration {
	d := s.cfg.RetryBase
	for i := 1; i < n && d < 10*time.Minute; i++ {
		d *= 2
	}
	d = min(d, 10*time.Minute)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// projectRow writes one projection row: to the SQL table (guarded by
// order_key) and, when configured, queued for DynamoDB; or, with
// Dynamo.Only, only queued for DynamoDB carrying the row itself. It reports
// whether the row was written or queued (false: a newer one is stored or
// pending).
func (s *Service) projectRow(ctx context.Context, tx *db.Tx, r projRow, deliveryID, receivedAt string) (bool, error) {
	if s.cfg.Dynamo.Only {
		return queueDynamoItem(ctx, tx, r, deliveryID)
	}
	ok, err := upsert(ctx, tx, r, deliveryID, receivedAt)
	if err != nil || !ok {
		return ok, err
	}
	return true, s.queueDynamo(ctx, tx, r.table, r.key)
}

// upsert writes one projection row unless the stored row is newer (ordering
// guard: order_key). It reports whether the row was written.
func upsert(ctx context.Context, tx *db.Tx, r projRow, deliveryID, receivedAt string) (bool, error) {
	if !IsTable(r.table) {
		return false, fmt.Errorf("unknown projection table %q", r.table)
	}
	q := `INSERT INTO ` + r.table + ` AS t (key, repo, number, action, status, conclusion, name, head_sha, updated_at, order_key, delivery_id, received_at, revision, object)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
 ON CONFLICT (key) DO UPDATE SET repo = excluded.repo, number = excluded.number, action = excluded.action,
 status = excluded.status, conclusion = excluded.conclusion, name = excluded.name, head_sha = excluded.head_sha,
 updated_at = excluded.updated_at, order_key = excluded.order_key, delivery_id = excluded.delivery_id,
 received_at = excluded.received_at, revision = t.revision + 1, object = excluded.object
 WHERE excluded.order_key >= t.order_key`
	var num any
	if r.number != 0 {
		num = r.number
	}
	res, err := tx.Exec(ctx, q, r.key, r.repo, num, nullStr(r.action), nullStr(r.status), nullStr(r.conclusion),
		nullStr(r.name), nullStr(r.headSHA), r.updatedAt, r.orderKey, deliveryID, receivedAt, string(r.object))
	if err != nil {
		return false, fmt.Errorf("upsert %s %s: %w", r.table, r.key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("upsert %s %s: rows affected: %w", r.table, r.key, err)
	}
	return n > 0, nil
}

// queueLog queues the log download of a completed workflow job (when logs are
// configured and their policy wants it), in the projection transaction.
func (s *Service) queueLog(ctx context.Context, tx *db.Tx, r projRow, deliveryID string) (bool, error) {
	if s.cfg.Logs == nil || r.table != "workflow_job" || r.status != "completed" {
		return false, nil
	}
	return s.cfg.Logs.EnqueueTx(ctx, tx, logs.Job{Repo: r.repo, ID: r.number, Conclusion: r.conclusion, DeliveryID: deliveryID})
}
