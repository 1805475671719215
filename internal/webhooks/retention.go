package webhooks

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/db"
)

// Retention (docs/webhooks.md, "Retention"): what the
// webhook tables keep, pruned in bounded batches so that one step never
// holds the (SQLite) writer for long.
//
//   - A payload (delivery_payloads) leaves SQL once its delivery is both
//     processed and archived: archived_at is set only after the archive
//     object holding it was written (archiver.pass), so the raw archive
//     then has it. Without an archive, payloads stay until retention.
//   - A delivery (deliveries, with its payload) is deleted once it was
//     received more than Retention ago, unless it is still waiting to be
//     archived (an archive outage longer than the retention keeps it) or
//     still due for a processing attempt.
//   - A redelivery request (redelivery_requests) is deleted after Retention.
//
// Deduplication: deliveries are deduplicated by GUID (delivery_id) only
// while their row exists. The redeliver job examines no delivery older than
// the retention (RedeliverOptions.Retention), so it never asks for one it
// has forgotten. A GUID GitHub sends again after its row was pruned (a
// manual redelivery) is stored and projected again; the projection's
// ordering guard (order_key, from the object's own status and timestamps)
// leaves every row whose stored state is newer untouched, so an old
// delivery never replaces a newer state, whatever order it arrives in.

// PruneOptions configures Prune.
type PruneOptions struct {
	// Retention is how long a delivery is kept after it was received
	// (0: forever; payloads are still pruned once archived).
	Retention time.Duration
	// Archive tells that deliveries are archived: payloads of processed,
	// archived deliveries are pruned, and a delivery not yet archived is
	// kept past Retention until it is.
	Archive bool
	// MaxAttempts is the processing attempt limit (Config.MaxAttempts): an
	// unprocessed delivery under it is kept. 0 means 10.
	MaxAttempts int
	// Batch is how many rows one statement deletes (default 500).
	Batch int
	// MaxBatches bounds the batches of one Prune call per kind of row
	// (default 20); the next call continues.
	MaxBatches int
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// PruneStats counts what one Prune call deleted.
type PruneStats struct {
	Payloads   int  `json:"payloads"`   // payloads of archived deliveries
	Deliveries int  `json:"deliveries"` // deliveries past the retention (with their payloads)
	Requests   int  `json:"redelivery_requests"`
	More       bool `json:"more"` // a batch limit was reached: call again
}

// Prune deletes, in batches, what the retention rules above no longer keep.
func Prune(ctx context.Context, d *db.DB, o PruneOptions) (PruneStats, error) {
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.MaxBatches <= 0 {
		o.MaxBatches = 20
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var st PruneStats
	if o.Archive {
		// Payloads of processed, archived deliveries. With an archive the
		// payload table only holds payloads still needed (unprocessed or
		// not yet archived), so this scan stays short; without one nothing
		// is archived and the scan is skipped.
		n, more, err := pruneBatches(ctx, d, o, `SELECT p.delivery_pk FROM delivery_payloads p JOIN deliveries d ON d.id = p.delivery_pk
 WHERE d.archived_at IS NOT NULL AND d.processed_at IS NOT NULL ORDER BY p.delivery_pk LIMIT ?`, nil,
			[]string{"DELETE FROM delivery_payloads WHERE delivery_pk IN "})
		st.Payloads, st.More = n, more
		if err != nil {
			return st, fmt.Errorf("prune archived payloads: %w", err)
		}
	}
	if o.Retention <= 0 {
		return st, nil
	}
	cutoff := db.FormatTime(o.Now().Add(-o.Retention))
	cond := "received_at < ? AND (processed_at IS NOT NULL OR attempts >= ?)"
	args := []any{cutoff, o.MaxAttempts}
	if o.Archive {
		cond += " AND archived_at IS NOT NULL"
	}
	n, more, err := pruneBatches(ctx, d, o, "SELECT id FROM deliveries WHERE "+cond+" ORDER BY received_at LIMIT ?", args,
		[]string{"DELETE FROM delivery_payloads WHERE delivery_pk IN ", "DELETE FROM deliveries WHERE id IN "})
	st.Deliveries, st.More = n, st.More || more
	if err != nil {
		return st, fmt.Errorf("prune deliveries older than %s: %w", o.Retention, err)
	}
	n, more, err = pruneKeys(ctx, d, o, "SELECT guid FROM redelivery_requests WHERE requested_at < ? LIMIT ?", []any{cutoff},
		"DELETE FROM redelivery_requests WHERE guid IN ")
	st.Requests, st.More = n, st.More || more
	if err != nil {
		return st, fmt.Errorf("prune redelivery requests older than %s: %w", o.Retention, err)
	}
	return st, nil
}

// pruneBatches selects up to o.Batch ids with sel (args, then the limit)
// and runs each of dels (a "DELETE … IN " prefix) on them in one
// transaction, up to o.MaxBatches times; it reports the ids deleted and
// whether the batch limit stopped it.
func pruneBatches(ctx context.Context, d *db.DB, o PruneOptions, sel string, args []any, dels []string) (int, bool, error) {
	total := 0
	for range o.MaxBatches {
		ids, err := selectIDs(ctx, d, sel, append(append([]any(nil), args...), o.Batch))
		if err != nil {
			return total, false, err
		}
		if len(ids) == 0 {
			return total, false, nil
		}
		if err := deleteIn(ctx, d, dels, ids); err != nil {
			return total, false, err
		}
		total += len(ids)
		if len(ids) < o.Batch {
			return total, false, nil
		}
	}
	return total, true, nil
}

// pruneKeys is pruneBatches for text keys.
func pruneKeys(ctx context.Context, d *db.DB, o PruneOptions, sel string, args []any, del string) (int, bool, error) {
	total := 0
	for range o.MaxBatches {
		rows, err := d.Query(ctx, sel, append(append([]any(nil), args...), o.Batch)...)
		if err != nil {
			return total, false, err
		}
		var keys []any
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return total, false, err
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, false, err
		}
		if len(keys) == 0 {
			return total, false, nil
		}
		if _, err := d.Exec(ctx, del+"(?"+strings.Repeat(", ?", len(keys)-1)+")", keys...); err != nil {
			return total, false, err
		}
		total += len(keys)
		if len(keys) < o.Batch {
			return total, false, nil
		}
	}
	return total, true, nil
}

func selectIDs(ctx context.Context, d *db.DB, q string, args []any) ([]any, error) {
	rows, err := d.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// deleteIn runs each "DELETE … IN " prefix of dels on ids, in one transaction.
func deleteIn(ctx context.Context, d *db.DB, dels []string, ids []any) error {
	tx, err := d.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	in := "(?" + strings.Repeat(", ?", len(ids)-1) + ")"
	for _, del := range dels {
		if _, err := tx.Exec(ctx, del+in, ids...); err != nil {
			return err
		}
	}
	return tx.Commit()
}
