package recovery

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/logs"
)

// APIClient is the GitHub side reconcile needs; *github.Client satisfies it.
type APIClient interface {
	HTTPClient(ctx context.Context, owner string) (*http.Client, error)
	BaseURL() string
}

// ReconcileOptions are the job's settings.
type ReconcileOptions struct {
	// Repos are the repositories to reconcile: OWNER/REPO or globs
	// ("acme/*"). Required.
	Repos []string
	// StuckAfter is how long a job may stay queued or in_progress before it
	// is refreshed (default 3h). It is also the first back-off of a job the
	// API could not help with (see Reconcile).
	StuckAfter time.Duration
	// MaxJobs bounds the jobs refreshed per run (default DefaultMaxJobs).
	MaxJobs int
	// MaxBackoff caps the wait before a fruitless job is checked again
	// (default 7 days).
	MaxBackoff time.Duration
	// DryRun counts the stuck jobs without refreshing them.
	DryRun bool
	// Dynamo queues refreshed rows for the DynamoDB mirror (set when
	// webhooks.dynamodb is configured).
	Dynamo bool
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// DefaultMaxJobs is the default number of jobs one reconcile run refreshes.
const DefaultMaxJobs = 500

// ReconcileSummary is the outcome of one run.
type ReconcileSummary struct {
	Stuck     int    `json:"stuck"`     // stuck rows of the configured repositories
	Checked   int    `json:"checked"`   // refreshed from the API
	Updated   int    `json:"updated"`   // rows the refreshed state replaced
	Unchanged int    `json:"unchanged"` // the API had nothing newer
	NotFound  int    `json:"not_found"` // 404: job deleted or no access
	Failed    int    `json:"failed"`    // other errors
	OverLimit int    `json:"over_limit"`
	Deferred  int    `json:"deferred"` // checked by an earlier run, waiting out their back-off
	DryRun    bool   `json:"dry_run,omitempty"`
	Error     string `json:"error,omitempty"`
}

// SetError records the run's error in the summary's JSON form.
func (s *ReconcileSummary) SetError(msg string) { s.Error = msg }

// stuckStatuses are the workflow_job statuses reconcile refreshes.
const stuckStatuses = `('queued', 'in_progress', 'waiting', 'requested', 'pending')`

// stuckRow is one stuck workflow_job row and its last check, if any.
type stuckRow struct {
	key, repo, updatedAt string
	id                   int64
	attempts             int // fruitless checks of this state of the row
}

// Reconcile runs the reconcile job once. dl, when not nil, queues the log
// download of a job found completed (as a delivery would). An error is
// returned with the summary when some refresh failed.
//
// Progress is guaranteed: every refresh records its outcome in
// reconcile_checks. A row still stuck afterwards (404, no access, other
// error, or the API's state is just as stuck) is not picked again before
// its back-off (StuckAfter doubled per fruitless check, at most MaxBackoff)
// unless the row itself changes. Rows never checked come first, oldest
// first, then due ones by fewest checks: a run works up to MaxJobs of them,
// so rows that the API cannot help never starve newer stuck jobs.
func Reconcile(ctx context.Context, d *db.DB, gh APIClient, dl *logs.Downloader, o ReconcileOptions, m *Metrics, log *slog.Logger) (*ReconcileSummary, error) {
	if len(o.Repos) == 0 {
		return nil, fmt.Errorf("reconcile: no repos configured")
	}
	for _, p := range o.Repos {
		if !doublestar.ValidatePattern(p) {
			return nil, fmt.Errorf("reconcile: bad repos pattern %q", p)
		}
	}
	if o.StuckAfter <= 0 {
		o.StuckAfter = 3 * time.Hour
	}
	if o.MaxJobs <= 0 {
		o.MaxJobs = DefaultMaxJobs
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 7 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sum := &ReconcileSummary{DryRun: o.DryRun}
	now := o.Now()
	if !o.DryRun {
		// Checks of rows no longer stuck (completed by a delivery) are done with.
		if _, err := d.Exec(ctx, `DELETE FROM reconcile_checks WHERE NOT EXISTS (SELECT 1 FROM workflow_job w
 WHERE w.key = reconcile_checks.job_key AND w.status IN `+stuckStatuses+`)`); err != nil {
			return sum, fmt.Errorf("reconcile: forget finished checks: %w", err)
		}
	}
	todo, err := selectStuck(ctx, d, o, now, sum)
	if err != nil {
		return sum, err
	}
	var failures []string
	source := "reconcile:" + db.FormatTime(now)
	for _, s := range todo {
		if o.DryRun {
			continue
		}
		outcome := "unchanged"
		obj, status, err := fetchJob(ctx, gh, s.repo, s.id)
		switch {
		case status == http.StatusNotFound:
			sum.NotFound++
			outcome = "not_found"
		case err != nil:
			sum.Failed++
			failures = append(failures, err.Error())
			outcome = "failed"
		default:
			sum.Checked++
			ok, err := webhooks.ApplyObject(ctx, d, "workflow_job", s.repo, obj, source, webhooks.ApplyOptions{Logs: dl, Dynamo: o.Dynamo})
			switch {
			case err != nil:
				sum.Failed++
				failures = append(failures, err.Error())
				outcome = "failed"
			case ok:
				sum.Updated++
				outcome = "updated"
				log.Info("stuck workflow job refreshed", "repo", s.repo, "job", s.id)
			default:
				sum.Unchanged++
			}
		}
		if err := recordCheck(ctx, d, o, s, outcome, now); err != nil {
			return sum, err
		}
	}
	m.reconciled(sum)
	if len(failures) > 0 {
		return sum, fmt.Errorf("reconcile: %d job(s) failed: %s", len(failures), strings.Join(failures, "; "))
	}
	return sum, nil
}

// selectStuck walks the stuck rows of the configured repositories (never
// checked, or changed since their check, first; then due ones by fewest
// checks; oldest first within each) and returns up to o.MaxJobs of those
// due, counting the rest into sum (Stuck, Deferred, OverLimit). Only keys
// and timestamps are read, one row at a time.
func selectStuck(ctx context.Context, d *db.DB, o ReconcileOptions, now time.Time, sum *ReconcileSummary) ([]stuckRow, error) {
	cutoff := db.FormatTime(now.Add(-o.StuckAfter))
	rows, err := d.Query(ctx, `SELECT w.key, w.repo, w.number, w.updated_at, c.row_updated_at, c.next_check_at, c.attempts
 FROM workflow_job w LEFT JOIN reconcile_checks c ON c.job_key = w.key
 WHERE w.status IN `+stuckStatuses+` AND w.updated_at < ?
 ORDER BY CASE WHEN c.job_key IS NULL OR c.row_updated_at <> w.updated_at THEN 0 ELSE 1 END,
 COALESCE(c.attempts, 0), w.updated_at, w.key`, cutoff)
	if err != nil {
		return nil, fmt.Errorf("reconcile: select stuck jobs: %w", err)
	}
	defer rows.Close()
	nowS := db.FormatTime(now)
	var todo []stuckRow
	for rows.Next() {
		var s stuckRow
		var id *int64
		var rowAt, next *string
		var attempts *int
		if err := rows.Scan(&s.key, &s.repo, &id, &s.updatedAt, &rowAt, &next, &attempts); err != nil {
			return nil, fmt.Errorf("reconcile: scan: %w", err)
		}
		if id == nil || !matchAny(o.Repos, s.repo) {
			continue
		}
		s.id = *id
		sum.Stuck++
		if rowAt != nil && *rowAt == s.updatedAt && attempts != nil {
			if next != nil && *next > nowS {
				sum.Deferred++
				continue
			}
			s.attempts = *attempts
		}
		if len(todo) >= o.MaxJobs {
			sum.OverLimit++
			continue
		}
		todo = append(todo, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reconcile: select stuck jobs: %w", err)
	}
	return todo, nil
}

// recordCheck records the outcome of refreshing s: a row no longer stuck
// forgets its check; one still stuck (at its state after the refresh) waits
// StuckAfter·2^(checks-1), at most MaxBackoff, before it is picked again.
func recordCheck(ctx context.Context, d *db.DB, o ReconcileOptions, s stuckRow, outcome string, now time.Time) error {
	var status, updatedAt string
	err := d.QueryRow(ctx, "SELECT status, updated_at FROM workflow_job WHERE key = ?", s.key).Scan(&status, &updatedAt)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !isStuck(status)) {
		if _, err := d.Exec(ctx, "DELETE FROM reconcile_checks WHERE job_key = ?", s.key); err != nil {
			return fmt.Errorf("reconcile: record check of %s: %w", s.key, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("reconcile: record check of %s: %w", s.key, err)
	}
	attempts := 1
	if updatedAt == s.updatedAt {
		attempts = s.attempts + 1
	}
	wait := o.StuckAfter
	for i := 1; i < attempts && wait < o.MaxBackoff; i++ {
		wait *= 2
	}
	wait = min(wait, o.MaxBackoff)
	if _, err := d.Exec(ctx, `INSERT INTO reconcile_checks (job_key, row_updated_at, checked_at, next_check_at, attempts, outcome)
 VALUES (?, ?, ?, ?, ?, ?)
 ON CONFLICT (job_key) DO UPDATE SET row_updated_at = excluded.row_updated_at, checked_at = excluded.checked_at,
 next_check_at = excluded.next_check_at, attempts = excluded.attempts, outcome = excluded.outcome`,
		s.key, updatedAt, db.FormatTime(now), db.FormatTime(now.Add(wait)), attempts, outcome); err != nil {
		return fmt.Errorf("reconcile: record check of %s: %w", s.key, err)
	}
	return nil
}

// isStuck reports whether status is one reconcile refreshes.
func isStuck(status string) bool {
	switch status {
	case "queued", "in_progress", "waiting", "requested", "pending":
		return true
	}
	return false
}

func matchAny(patterns []string, repo string) bool {
	for _, p := range patterns {
		if ok, _ := doublestar.Match(p, repo); ok {
			return true
		}
	}
	return false
}

// fetchJob GETs one workflow job; status is the HTTP status (0 on transport errors).
func fetchJob(ctx context.Context, gh APIClient, repo string, id int64) (json.RawMessage, int, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok {
		return nil, 0, fmt.Errorf("job %d: repository %q is not OWNER/REPO", id, repo)
	}
	hc, err := gh.HTTPClient(ctx, owner)
	if err != nil {
		return nil, 0, fmt.Errorf("GitHub client for %s: %w", owner, err)
	}
	u := gh.BaseURL() + "repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + "/actions/jobs/" + strconv.FormatInt(id, 10)
	req, err := http.NewRequestWithContext(github.WithRoute(ctx, "GET /repos/{owner}/{repo}/actions/jobs/{job_id}"), http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("get job %s/%d: %w", repo, id, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("get job %s/%d: read: %w", repo, id, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, fmt.Errorf("get job %s/%d: %s: %s", repo, id, resp.Status, firstLine(body))
	}
	return json.RawMessage(body), resp.StatusCode, nil
}
