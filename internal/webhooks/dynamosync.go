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

// DynamoConfig writes the projections to DynamoDB (docs/webhooks.md,
// "DynamoDB tables"), as a mirror of the SQL projection tables or,
// with Only, instead of them.
//
// Mirror: every projection change (and every job log classification) queues
// its row in dynamo_outbox in the same transaction; a background syncer
// writes the row's current SQL state with a conditional put (the ordering
// guard), retrying with backoff while DynamoDB fails, so a DynamoDB outage
// delays the mirror and loses nothing.
//
// Only: no SQL projection row is written; the outbox row carries the
// projected item itself (one per table and key: a newer item replaces a
// pending older one, an older one never replaces a newer one), and
// DynamoDB's conditional put rejects items older than the stored one. A
// job's log classification is kept in log_downloads: the syncer attaches it
// to every workflow_job item it puts, and a classification recorded after the
// item was written is set on it with a conditional UpdateItem.
type DynamoConfig struct {
	// Writer is the DynamoDB side; nil disables DynamoDB.
	Writer *dynamo.Writer
	// Only writes projections only to DynamoDB (webhooks.dynamodb.
	// sql_projections: false): deliveries stay in SQL, projection tables
	// stay empty. Requires Writer.
	Only bool
	// Interval is how often the outbox is checked without a wake-up (default 1s).
	Interval time.Duration
}

// Outbox row kinds (dynamo_outbox.kind).
const (
	outboxRow            = "row"            // mirror: read the SQL projection row
	outboxItem           = "item"           // only: write the carried item
	outboxClassification = "classification" // only: set a job's classification
)

// queueDynamo records that the projection row table/key changed (mirror mode).
func (s *Service) queueDynamo(ctx context.Context, tx *db.Tx, table, key string) error {
	if s.cfg.Dynamo.Writer == nil {
		return nil
	}
	return queueDynamoRow(ctx, tx, table, key)
}

// queueDynamoRow queues the mirror of SQL projection row table/key.
func queueDynamoRow(ctx context.Context, tx *db.Tx, table, key string) error {
	if _, err := tx.Exec(ctx, `INSERT INTO dynamo_outbox (tbl, key, seq, attempts, next_attempt_at, kind) VALUES (?, ?, 1, 0, ?, 'row')
 ON CONFLICT (tbl, key) DO UPDATE SET seq = dynamo_outbox.seq + 1, attempts = 0, next_attempt_at = excluded.next_attempt_at, last_error = NULL, kind = 'row'`,
		table, key, db.Now()); err != nil {
		return fmt.Errorf("queue dynamo mirror of %s %s: %w", table, key, err)
	}
	return nil
}

// queueDynamoItem queues the projected row r itself for DynamoDB (only
// mode). A pending item of the same table and key is replaced only by one
// whose order key is at least as new. It reports whether r was queued
// (false: a newer item is pending).
func queueDynamoItem(ctx context.Context, tx *db.Tx, r projRow, deliveryID string) (bool, error) {
	if !IsTable(r.table) {
		return false, fmt.Errorf("unknown projection table %q", r.table)
	}
	res, err := tx.Exec(ctx, `INSERT INTO dynamo_outbox (tbl, key, seq, attempts, next_attempt_at, kind, order_key, delivery_id, updated_at, object)
 VALUES (?, ?, 1, 0, ?, 'item', ?, ?, ?, ?)
 ON CONFLICT (tbl, key) DO UPDATE SET seq = dynamo_outbox.seq + 1, attempts = 0, next_attempt_at = excluded.next_attempt_at, last_error = NULL,
 kind = 'item', order_key = excluded.order_key, delivery_id = excluded.delivery_id, updated_at = excluded.updated_at, object = excluded.object
 WHERE dynamo_outbox.kind <> 'item' OR dynamo_outbox.order_key IS NULL OR excluded.order_key >= dynamo_outbox.order_key`,
		r.table, r.key, db.Now(), r.orderKey, deliveryID, r.updatedAt, string(r.object))
	if err != nil {
		return false, fmt.Errorf("queue dynamo item %s %s: %w", r.table, r.key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("queue dynamo item %s %s: rows affected: %w", r.table, r.key, err)
	}
	return n > 0, nil
}

// queueDynamoClassification queues setting the classification of job
// jobKey (only mode). A pending item of the job keeps its kind (the syncer
// attaches the classification when it puts it) but gets a new seq, so that a
// put already in flight without it is done again.
func queueDynamoClassification(ctx context.Context, tx *db.Tx, jobKey string) error {
	if _, err := tx.Exec(ctx, `INSERT INTO dynamo_outbox (tbl, key, seq, attempts, next_attempt_at, kind) VALUES ('workflow_job', ?, 1, 0, ?, 'classification')
 ON CONFLICT (tbl, key) DO UPDATE SET seq = dynamo_outbox.seq + 1, attempts = 0, next_attempt_at = excluded.next_attempt_at, last_error = NULL`,
		jobKey, db.Now()); err != nil {
		return fmt.Errorf("queue dynamo classification of %s: %w", jobKey, err)
	}
	return nil
}

type outboxEntry struct {
	id         int64
	table      string
	key        string
	seq        int64
	attempts   int
	kind       string
	orderKey   sql.NullString
	deliveryID sql.NullString
	updatedAt  sql.NullString
	object     sql.NullString
}

// SyncDynamo writes the due outbox rows to DynamoDB once and reports how many
// it handled (written, kept by the guard, or deferred). Rows that fail stay
// queued with their error and a backoff; the returned error says how many
// failed.
func (s *Service) SyncDynamo(ctx context.Context) (int, error) {
	w := s.cfg.Dynamo.Writer
	if w == nil {
		return 0, nil
	}
	d := s.cfg.DB
	rows, err := d.Query(ctx, `SELECT id, tbl, key, seq, attempts, kind, order_key, delivery_id, updated_at, object
 FROM dynamo_outbox WHERE next_attempt_at <= ? ORDER BY id LIMIT 200`, db.Now())
	if err != nil {
		return 0, fmt.Errorf("dynamo sync: select: %w", err)
	}
	var due []outboxEntry
	for rows.Next() {
		var r outboxEntry
		if err := rows.Scan(&r.id, &r.table, &r.key, &r.seq, &r.attempts, &r.kind, &r.orderKey, &r.deliveryID, &r.updatedAt, &r.object); err != nil {
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
		result, err := s.syncEntry(ctx, w, r)
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
		s.m.dynamo.WithLabelValues(result).Inc()
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

// syncEntry writes one outbox entry and names the result (written, stale,
// deferred).
func (s *Service) syncEntry(ctx context.Context, w *dynamo.Writer, r outboxEntry) (string, error) {
	if !IsTable(r.table) {
		return "", fmt.Errorf("dynamo sync: unknown table %q", r.table)
	}
	var applied bool
	var err error
	switch r.kind {
	case outboxRow:
		applied, err = s.mirrorRow(ctx, w, r)
	case outboxItem:
		if !r.object.Valid || !r.orderKey.Valid {
			return "", fmt.Errorf("dynamo sync: outbox item %s %s has no object or order key", r.table, r.key)
		}
		it := dynamo.Item{Table: r.table, Key: r.key, OrderKey: r.orderKey.String, DeliveryID: r.deliveryID.String,
			UpdatedAt: r.updatedAt.String, Object: []byte(r.object.String)}
		if r.table == "workflow_job" {
			if it.Classification, _, err = s.jobClassification(ctx, r.key); err != nil {
				return "", err
			}
		}
		applied, err = w.Put(ctx, it)
		if err == nil && !applied && len(it.Classification) > 0 {
			// The stored item is newer; the classification (of the job, not
			// of this version) may have been queued on this entry only.
			if _, err = w.SetClassification(ctx, r.table, r.key, it.Classification); err != nil {
				return "", err
			}
		}
	case outboxClassification:
		cls, found, cerr := s.jobClassification(ctx, r.key)
		if cerr != nil {
			return "", cerr
		}
		if !found { // not expected: it is recorded in the transaction that queued this
			s.log.Warn("DynamoDB: job log classification queued but no longer in log_downloads; nothing to write", "key", r.key)
			return "stale", nil
		}
		applied, err = w.SetClassification(ctx, r.table, r.key, cls)
		if err == nil && !applied {
			return "deferred", nil
		}
	default:
		return "", fmt.Errorf("dynamo sync: outbox row %s %s has unknown kind %q", r.table, r.key, r.kind)
	}
	if err != nil {
		return "", err
	}
	if applied {
		return "written", nil
	}
	return "stale", nil
}

// jobClassification returns the recorded log classification of job jobKey
// (JSON; "null" for a log that matched no rule); found is false when the
// job's log is not classified.
func (s *Service) jobClassification(ctx context.Context, jobKey string) (cls []byte, found bool, err error) {
	err = s.cfg.DB.QueryRow(ctx, `SELECT classification FROM log_downloads WHERE job_key = ? AND classification IS NOT NULL`, jobKey).Scan(&cls)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("dynamo sync: read classification of %s: %w", jobKey, err)
	}
	return cls, true, nil
}

// mirrorRow reads the row's current SQL state and writes it.
func (s *Service) mirrorRow(ctx context.Context, w *dynamo.Writer, r outboxEntry) (bool, error) {
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
			s.log.Error("writing projections to DynamoDB (will retry)", "err", err)
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
