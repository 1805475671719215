package webhooks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/webhooks/dynamo"
)

// DynamoConfig mirrors the projections to DynamoDB (spec 30-webhooks.md,
// Projections, DynamoDB option). Every projection change (and every job log
// classification) queues its row in dynamo_outbox in the same transaction; a
// background syncer writes the row's current state with a conditional put
// (the ordering guard), retrying with backoff while DynamoDB fails, so a
// DynamoDB outage delays the mirror and loses nothing.
type DynamoConfig struct {
	// Writer is the DynamoDB side; nil disables the mirror.
	Writer *dynamo.Writer
	// Interval is how often the outbox is checked without a wake-up (default 1s).
	Interval time.Duration
}

// queueDynamo records that the projection row table/key changed.
func (s *Service) queueDynamo(ctx context.Context, tx *db.Tx, table, key string) error {
	if s.cfg.Dynamo.Writer == nil {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO dynamo_outbox (tbl, key, seq, attempts, next_attempt_at) VALUES (?, ?, 1, 0, ?)
 ON CONFLICT (tbl, key) DO UPDATE SET seq = dynamo_outbox.seq + 1, attempts = 0, next_attempt_at = excluded.next_attempt_at, last_error = NULL`,
		table, key, db.Now()); err != nil {
		return fmt.Errorf("queue dynamo mirror of %s %s: %w", table, key, err)
	}
	return nil
}

type outboxRow struct {
	id       int64
	table    string
	key      string
	seq      int64
	attempts int
}

// SyncDynamo writes the due outbox rows to DynamoDB once and reports how many
// it handled (written or kept by the guard). Rows that fail stay queued with
// their error and a backoff; the returned error says how many failed.
func (s *Service) SyncDynamo(ctx context.Context) (int, error) {
	w := s.cfg.Dynamo.Writer
	if w == nil {
		return 0, nil
	}
	d := s.cfg.DB
	rows, err := d.Query(ctx, `SELECT id, tbl, key, seq, attempts FROM dynamo_outbox WHERE next_attempt_at <= ? ORDER BY id LIMIT 200`, db.Now())
	if err != nil {
		return 0, fmt.Errorf("dynamo sync: select: %w", err)
	}
	var due []outboxRow
	for rows.Next() {
		var r outboxRow
		if err := rows.Scan(&r.id, &r.table, &r.key, &r.seq, &r.attempts); err != nil {
			rows.Close()
			return 0, fmt.Errorf("dynamo sync: scan: %w", err)
		}
		due = append(due, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("dynamo sync: select: %w", err)
	}
	done, failed := 0, 0
	var lastErr error
	for _, r := range due {
		applied, err := s.mirrorRow(ctx, w, r)
		if err != nil {
			failed++
			lastErr = err
			s.m.dynamo.WithLabelValues("error").Inc()
			msg := err.Error()
			if len(msg) > 2000 {
				msg = msg[:2000]
			}
			next := db.FormatTime(time.Now().Add(s.backoff(r.attempts + 1)))
			if _, uerr := d.Exec(ctx, `UPDATE dynamo_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ? AND seq = ?`,
				msg, next, r.id, r.seq); uerr != nil {
				return done, fmt.Errorf("dynamo sync: record failure: %w", uerr)
			}
			continue
		}
		if applied {
			s.m.dynamo.WithLabelValues("written").Inc()
		} else {
			s.m.dynamo.WithLabelValues("stale").Inc()
		}
		if _, err := d.Exec(ctx, `DELETE FROM dynamo_outbox WHERE id = ? AND seq = ?`, r.id, r.seq); err != nil {
			return done, fmt.Errorf("dynamo sync: dequeue: %w", err)
		}
		done++
	}
	if failed > 0 {
		return done, fmt.Errorf("dynamo sync: %d of %d writes failed (will retry), last: %w", failed, len(due), lastErr)
	}
	return done, nil
}

// mirrorRow reads the row's current state and writes it.
func (s *Service) mirrorRow(ctx context.Context, w *dynamo.Writer, r outboxRow) (bool, error) {
	if !IsTable(r.table) {
		return false, fmt.Errorf("dynamo sync: unknown table %q", r.table)
	}
	class := "NULL"
	if r.table == "workflow_job" {
		class = "classification"
	}
	var it dynamo.Item
	var obj, cls []byte
	err := s.cfg.DB.QueryRow(ctx, `SELECT order_key, delivery_id, updated_at, object, `+class+` FROM `+r.table+` WHERE key = ?`, r.key).
		Scan(&it.OrderKey, &it.DeliveryID, &it.UpdatedAt, &obj, &cls)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // nothing to mirror
	}
	if err != nil {
		return false, fmt.Errorf("dynamo sync: read %s %s: %w", r.table, r.key, err)
	}
	it.Table, it.Key, it.Object, it.Classification = r.table, r.key, obj, cls
	return w.Put(ctx, it)
}

// dynamoLoop drains the outbox until ctx ends.
func (s *Service) dynamoLoop(ctx context.Context) {
	iv := s.cfg.Dynamo.Interval
	if iv <= 0 {
		iv = time.Second
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		n, err := s.SyncDynamo(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("mirroring projections to DynamoDB (will retry)", "err", err)
		}
		if n >= 200 && err == nil {
			continue
		}
		t.Reset(iv)
		select {
		case <-ctx.Done():
			return
		case <-s.dynamoPoke:
		case <-t.C:
		}
	}
}
