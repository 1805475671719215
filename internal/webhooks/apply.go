package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/webhooks/logs"
)

// ApplyObject projects an object fetched from the REST API (for example a
// workflow job refreshed by the reconcile job) exactly as a delivery of
// event carrying it would be: the same projection, the same ordering guard,
// and, for a completed workflow job, the same log-download queueing when dl
// is not nil. source names the origin in the row's delivery_id column
// (e.g. "reconcile:2024-05-01T10:00:00Z"). It reports whether a row was
// written (false: the stored row was as new or newer).
func ApplyObject(ctx context.Context, d *db.DB, dl *logs.Downloader, event, repo string, object json.RawMessage, source string) (bool, error) {
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
