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
	// DynamoOnly writes no SQL projection row: the object is queued for
	// DynamoDB only, as the Service does with Config.Dynamo.Only (set it
	// when webhooks.dynamodb.sql_projections is false). Implies Dynamo.
	DynamoOnly bool
}

// ApplyObject projects an object fetched from the REST API (for example a
// workflow job refreshed by the reconcile job) exactly as a delivery of
// event carrying it would be: the same projection, the same ordering guard,
// and the same log-download and DynamoDB queueing (per o). source names the
// origin in the row's delivery_id column (e.g. "reconcile:2024-05-01T10:00:00Z").
// It reports whether a row was written (false: the stored row was as new or
// newer); with o.DynamoOnly, whether the object was queued for DynamoDB
// (false: a newer one is pending; DynamoDB's conditional put guards the rest).
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
		var ok bool
		if o.DynamoOnly {
			ok, err = queueDynamoItem(ctx, tx, r, source)
		} else {
			ok, err = upsert(ctx, tx, r, source, now)
		}
		if err != nil {
			return false, fmt.Errorf("apply %s of %s: %w", event, repo, err)
		}
		applied = applied || ok
		if ok && o.Dynamo && !o.DynamoOnly {
			if err := queueDynamoRow(ctx, tx, r.table, r.key); err != nil {
				return false, fmt.Errorf("apply %s of %s: %w", event, repo, err)
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
