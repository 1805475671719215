package scheduler

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/db"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Outcomes recorded in the run history.
const (
	// OutcomeRunning: the run has started and not finished (or its replica
	// died and it has not been retried yet).
	OutcomeRunning = "running"
	// OutcomeOK: the job succeeded.
	OutcomeOK = "ok"
	// OutcomeFailed: the job returned an error (it may be retried).
	OutcomeFailed = "failed"
	// OutcomeSkipped: the tick found the job still running and did nothing.
	OutcomeSkipped = "skipped"
	// OutcomeAbandoned: the replica running it stopped mid-run; the run was
	// retried as a later attempt.
	OutcomeAbandoned = "abandoned"
)

// Run is one row of the run history: an attempt of a queued job, or a
// skipped tick.
type Run struct {
	ID          int64           `json:"id"`
	Job         string          `json:"job"`
	QueueJobID  int64           `json:"queue_job_id"` // River's job id
	Attempt     int             `json:"attempt"`
	DryRun      bool            `json:"dry_run"`
	ScheduledAt time.Time       `json:"scheduled_at"`
	StartedAt   time.Time       `json:"started_at"`
	FinishedAt  time.Time       `json:"finished_at,omitzero"`
	Outcome     string          `json:"outcome"`
	Summary     json.RawMessage `json:"summary,omitempty"`
	Error       string          `json:"error,omitempty"`
	Replica     string          `json:"replica"`
}

// Duration is FinishedAt-StartedAt, or 0 while running.
func (r *Run) Duration() time.Duration {
	if r.FinishedAt.IsZero() {
		return 0
	}
	return r.FinishedAt.Sub(r.StartedAt)
}

// Migrate creates or updates the run-history and lock tables in d. It is
// safe to call on every start and from several processes at once.
func Migrate(ctx context.Context, d *db.DB) error {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		return fmt.Errorf("scheduler migrations: %w", err)
	}
	return d.Migrate(ctx, "scheduler", sub)
}

const runColumns = `id, job, river_job_id, attempt, dry_run, scheduled_at, started_at, finished_at, outcome, summary, error, replica`

// LastRuns returns, per job name, the latest run that was not a skipped tick.
// It fails if the history table does not exist (Migrate was never run).
func LastRuns(ctx context.Context, d *db.DB) (map[string]*Run, error) {
	rows, err := d.Query(ctx, `SELECT `+prefixed("r.", runColumns)+` FROM ghsync_runs r
		JOIN (SELECT job, MAX(id) AS id FROM ghsync_runs WHERE outcome <> ? GROUP BY job) m ON r.id = m.id`, OutcomeSkipped)
	if err != nil {
		return nil, fmt.Errorf("query last runs: %w", err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("query last runs: %w", err)
	}
	out := make(map[string]*Run, len(runs))
	for i := range runs {
		out[runs[i].Job] = &runs[i]
	}
	return out, nil
}

// RunQuery selects run-history rows for [Runs].
type RunQuery struct {
	Job   string // "" = every job
	Limit int    // default 50, at most 1000
}

// Runs returns run-history rows, newest first.
func Runs(ctx context.Context, d *db.DB, q RunQuery) ([]Run, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 1000)
	query, args := `SELECT `+runColumns+` FROM ghsync_runs`, []any{}
	if q.Job != "" {
		query += ` WHERE job = ?`
		args = append(args, q.Job)
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, q.Limit)
	rows, err := d.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query runs: %w", err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("query runs: %w", err)
	}
	return runs, nil
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

func scanRuns(rows *sql.Rows) ([]Run, error) {
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var dry int
		var sched, started, finished string
		var summary sql.NullString
		if err := rows.Scan(&r.ID, &r.Job, &r.QueueJobID, &r.Attempt, &dry, &sched, &started, &finished,
			&r.Outcome, &summary, &r.Error, &r.Replica); err != nil {
			return nil, err
		}
		r.DryRun = dry != 0
		r.ScheduledAt = parseTime(sched)
		r.StartedAt = parseTime(started)
		r.FinishedAt = parseTime(finished)
		if summary.Valid && summary.String != "" {
			r.Summary = json.RawMessage(summary.String)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := db.ParseTime(s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return db.FormatTime(t)
}

// RecordRun adds a finished run that did not come from the queue (a
// foreground `ghsync run`) to the run history in d, creating the history's
// tables if needed; r.QueueJobID is 0. Its outcome is r.Outcome.
func RecordRun(ctx context.Context, d *db.DB, r *Run) error {
	if err := Migrate(ctx, d); err != nil {
		return err
	}
	var sum any
	if len(r.Summary) > 0 {
		sum = string(r.Summary)
	}
	_, err := d.Exec(ctx, `INSERT INTO ghsync_runs
		(job, river_job_id, attempt, dry_run, scheduled_at, started_at, finished_at, outcome, summary, error, replica)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Job, r.QueueJobID, r.Attempt, boolInt(r.DryRun), formatTime(r.ScheduledAt), formatTime(r.StartedAt),
		formatTime(r.FinishedAt), r.Outcome, sum, r.Error, r.Replica)
	if err != nil {
		return fmt.Errorf("record the run of %s in the run history: %w", r.Job, err)
	}
	return nil
}

// history writes the run history.
type history struct {
	d        *db.DB
	keepRuns int
	keepFor  time.Duration
}

// start records a running attempt and returns its row id.
func (h *history) start(ctx context.Context, r *Run) (int64, error) {
	var id int64
	err := h.d.W.QueryRowContext(ctx, h.d.Rebind(`INSERT INTO ghsync_runs
		(job, river_job_id, attempt, dry_run, scheduled_at, started_at, outcome, replica)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		r.Job, r.QueueJobID, r.Attempt, boolInt(r.DryRun), formatTime(r.ScheduledAt), formatTime(r.StartedAt),
		OutcomeRunning, r.Replica).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record run start of %s: %w", r.Job, err)
	}
	return id, nil
}

// finish records the end of run id.
func (h *history) finish(ctx context.Context, id int64, end time.Time, outcome string, summary []byte, errText string) error {
	var sum any
	if len(summary) > 0 {
		sum = string(summary)
	}
	if _, err := h.d.Exec(ctx, `UPDATE ghsync_runs SET finished_at = ?, outcome = ?, summary = ?, error = ? WHERE id = ?`,
		formatTime(end), outcome, sum, errText, id); err != nil {
		return fmt.Errorf("record run end: %w", err)
	}
	return nil
}

// skipped records a tick that found the job running.
func (h *history) skipped(ctx context.Context, r *Run) error {
	_, err := h.d.Exec(ctx, `INSERT INTO ghsync_runs
		(job, river_job_id, attempt, dry_run, scheduled_at, started_at, finished_at, outcome, error, replica)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Job, r.QueueJobID, r.Attempt, boolInt(r.DryRun), formatTime(r.ScheduledAt), formatTime(r.StartedAt),
		formatTime(r.StartedAt), OutcomeSkipped, r.Error, r.Replica)
	if err != nil {
		return fmt.Errorf("record skipped tick of %s: %w", r.Job, err)
	}
	return nil
}

// abandon marks the still-"running" rows of earlier attempts of queue job
// jobID as abandoned (their replica stopped mid-run).
func (h *history) abandon(ctx context.Context, jobID int64, attempt int, now time.Time) (int64, error) {
	res, err := h.d.Exec(ctx, `UPDATE ghsync_runs SET outcome = ?, finished_at = ?, error = ?
		WHERE river_job_id = ? AND attempt < ? AND outcome = ?`,
		OutcomeAbandoned, formatTime(now), fmt.Sprintf("the replica stopped during the run; retried as attempt %d", attempt),
		jobID, attempt, OutcomeRunning)
	if err != nil {
		return 0, fmt.Errorf("mark abandoned runs: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// prune deletes job's rows older than keepFor and finished rows beyond the
// newest keepRuns.
func (h *history) prune(ctx context.Context, job string, now time.Time) error {
	_, err := h.d.Exec(ctx, `DELETE FROM ghsync_runs WHERE job = ? AND (started_at < ? OR (outcome <> ? AND id <=
		(SELECT id FROM ghsync_runs WHERE job = ? ORDER BY id DESC LIMIT 1 OFFSET ?)))`,
		job, formatTime(now.Add(-h.keepFor)), OutcomeRunning, job, h.keepRuns)
	if err != nil {
		return fmt.Errorf("prune run history of %s: %w", job, err)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
