package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/webhooks/logs"
)

// ApplyOptions are the optional parts of ApplyObject.
type ApplyOptions struct {
	// Logs queues the log download of a completed workflow job, as the
	// webhook worker does; nil: none.
	Logs *logs.Downloader
	// Dynamo queues the changed row for the DynamoDB mirror (set it when
	// webhooks.dynamodb is configured, so the serving Service mirrors it).
	Dynamo bool
}

// ApplyObject projects an object fetched from the REST API (for example a
// workflow job refreshed by the reconcile job) exactly as a delivery of
// event carrying it would be: the same projection, the same ordering guard,
// and the same log-download and DynamoDB queueing (per o). source names the
// origin in the row's delivery_id column (e.g. "reconcile:2024-05-01T10:00:00Z").
// It reports whether a row was written (false: the stored row was as new or
// newer).
func ApplyObject(ctx context.Context, d *db.DB, event, repo string, object json.RawMessage, source string, o ApplyOptions) (bool, error) {
	dl := o.Logs
	var key string
	switch event {
	case "workflow_job", "workflow_run":
		key = event
	default:
		return false, fmt.Errorf("apply %s: only workflow_job and workflow_run objects can be applied", event)
	}
	var st struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(object, &st); err != nil {
		return false, fmt.Errorf("apply %s of %s: %w", event, repo, err)
	}
	payload, err := json.Marshal(map[string]any{"action": st.Status, key: object, "repository": map[string]string{"full_name": repo}})
	if err != nil {
		return false, fmt.Errorf("apply %s of %s: %w", event, repo, err)
	}
	now := db.FormatTime(time.Now())
	rows, err := project(event, source, now, payload)
	if err != nil {
		return false, fmt.Errorf("apply %s of %s: %w", event, repo, err)
	}
	tx, err := d.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("apply %s of %s: %w", event, repo, err)
	}
	defer tx.Rollback()
	applied, queued := false, false
	for _, r := range rows {
		ok, err := upsert(ctx, tx, r, source, now)
		if err != nil {
			return false, err
		}
		applied = applied || ok
		if ok && o.Dynamo {
			if _, err := tx.Exec(ctx, `INSERT INTO dynamo_outbox (tbl, key, seq, attempts, next_attempt_at) VALUES (?, ?, 1, 0, ?)
 ON CONFLICT (tbl, key) DO UPDATE SET seq = dynamo_outbox.seq + 1, attempts = 0, next_attempt_at = excluded.next_attempt_at, last_error = NULL`,
				r.table, r.key, db.Now()); err != nil {
				return false, fmt.Errorf("apply %s of %s: queue dynamo mirror: %w", event, repo, err)
			}
		}
		if dl != nil && ok && r.table == "workflow_job" && r.status == "completed" {
			q, err := dl.EnqueueTx(ctx, tx, logs.Job{Repo: r.repo, ID: r.number, Conclusion: r.conclusion, DeliveryID: source})
			if err != nil {
				return false, err
			}
			queued = queued || q
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("apply %s of %s: commit: %w", event, repo, err)
	}
	if queued {
		dl.Wake()
	}
	return applied, nil
}
