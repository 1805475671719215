package webhooks

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/webhooks/classify"
)

// ClassificationStats returns the classifier's accuracy over the job logs
// downloaded and classified since since (log_downloads rows in state
// 'done', by done_at): the figures of `ghsync classify --stats`, counted
// against rs's rule names and catch_all (a rule name rs does not hold, from
// an earlier ruleset, is listed after its rules). Logs still queued or that
// failed to download are not counted.
func ClassificationStats(ctx context.Context, d *db.DB, since time.Time, rs *classify.Ruleset) (*classify.Stats, error) {
	rows, err := d.Query(ctx, `SELECT rule, COUNT(*) FROM log_downloads WHERE state = 'done' AND done_at >= ? GROUP BY rule`, db.FormatTime(since))
	if err != nil {
		return nil, fmt.Errorf("query log classifications: %w", err)
	}
	defer rows.Close()
	sc := classify.NewStatsCounter(rs, nil)
	for rows.Next() {
		var rule sql.NullString
		var n int
		if err := rows.Scan(&rule, &n); err != nil {
			return nil, fmt.Errorf("query log classifications: %w", err)
		}
		sc.Add(rule.String, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query log classifications: %w", err)
	}
	return sc.Stats(), nil
}
