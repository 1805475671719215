package ui

import (
	"context"
	"database/sql"
	"time"

	"github.com/ghsync/ghsync/internal/db"
)

// lastFailures is how many of the newest failures of each kind the
// deliveries page lists.
const lastFailures = 10

// eventCount is one event's deliveries.
type eventCount struct {
	Event                     string
	Total, Processed, Pending int
	Failing                   int // not processed, with an error: being retried
	Last                      time.Time
}

// projectionFailure is a delivery whose projection failed (it is retried
// until it succeeds; LastError is the newest failure).
type projectionFailure struct {
	DeliveryID, Event, Action, Repo, LastError string
	Attempts                                   int
	Received                                   time.Time
	Processed                                  bool // a later attempt succeeded
}

// logFailure is a CI log download that failed.
type logFailure struct {
	Repo, State, LastError string
	JobID                  int64
	Attempts               int
	Created                time.Time
}

// webhookStats are the deliveries page's summary: deliveries per event and
// the newest failures of projections and log downloads. A table that does
// not exist (webhooks never set up, no log downloads) gives an empty part.
type webhookStats struct {
	Events      []eventCount
	Projections []projectionFailure
	Logs        []logFailure
	// HasLogs is true when the log-download queue exists in the database.
	HasLogs bool
}

// readWebhookStats reads the summary; errors are logged, not shown (the
// deliveries list below says whether the database answers).
func (h *handler) readWebhookStats(ctx context.Context) webhookStats {
	var s webhookStats
	q := func(query string, scan func(*sql.Rows) error) bool {
		rows, err := h.o.DB.R.QueryContext(ctx, h.o.DB.Rebind(query))
		if err != nil {
			h.log.Debug("ui: webhook summary", "err", err)
			return false
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				h.log.Warn("ui: webhook summary", "err", err)
				return true
			}
		}
		return rows.Err() == nil
	}
	q(`SELECT event, COUNT(*),
		SUM(CASE WHEN processed_at IS NOT NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN processed_at IS NULL AND last_error IS NOT NULL AND last_error <> '' THEN 1 ELSE 0 END),
		MAX(received_at)
		FROM deliveries GROUP BY event ORDER BY COUNT(*) DESC, event`, func(r *sql.Rows) error {
		var e eventCount
		var last string
		if err := r.Scan(&e.Event, &e.Total, &e.Processed, &e.Failing, &last); err != nil {
			return err
		}
		e.Pending = e.Total - e.Processed - e.Failing
		e.Last, _ = db.ParseTime(last)
		s.Events = append(s.Events, e)
		return nil
	})
	q(`SELECT delivery_id, event, COALESCE(action, ''), COALESCE(repo, ''), attempts, last_error, received_at,
		CASE WHEN processed_at IS NULL THEN 0 ELSE 1 END
		FROM deliveries WHERE last_error IS NOT NULL AND last_error <> '' ORDER BY id DESC LIMIT 10`, func(r *sql.Rows) error {
		var f projectionFailure
		var recv string
		var done int
		if err := r.Scan(&f.DeliveryID, &f.Event, &f.Action, &f.Repo, &f.Attempts, &f.LastError, &recv, &done); err != nil {
			return err
		}
		f.LastError, f.Processed = redactText(f.LastError), done != 0
		f.Received, _ = db.ParseTime(recv)
		s.Projections = append(s.Projections, f)
		return nil
	})
	s.HasLogs = q(`SELECT repo, job_id, state, attempts, last_error, created_at
		FROM log_downloads WHERE last_error IS NOT NULL AND last_error <> '' ORDER BY id DESC LIMIT 10`, func(r *sql.Rows) error {
		var f logFailure
		var created string
		if err := r.Scan(&f.Repo, &f.JobID, &f.State, &f.Attempts, &f.LastError, &created); err != nil {
			return err
		}
		f.LastError = redactText(f.LastError)
		f.Created, _ = db.ParseTime(created)
		s.Logs = append(s.Logs, f)
		return nil
	})
	return s
}
