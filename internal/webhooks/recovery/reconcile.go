package recovery

import (
	"context"
	"encoding/json"
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
	// is refreshed (default 3h).
	StuckAfter time.Duration
	// MaxJobs bounds the jobs refreshed per run (default 500).
	MaxJobs int
	// DryRun counts the stuck jobs without refreshing them.
	DryRun bool
	// Dynamo queues refreshed rows for the DynamoDB mirror (set when
	// webhooks.dynamodb is configured).
	Dynamo bool
}

// ReconcileSummary is the outcome of one run.
type ReconcileSummary struct {
	Stuck     int    `json:"stuck"`     // stuck rows of the configured repositories
	Checked   int    `json:"checked"`   // refreshed from the API
	Updated   int    `json:"updated"`   // rows the refreshed state replaced
	Unchanged int    `json:"unchanged"` // the API had nothing newer
	NotFound  int    `json:"not_found"` // 404: job deleted or no access
	Failed    int    `json:"failed"`    // other errors
	OverLimit int    `json:"over_limit"`
	DryRun    bool   `json:"dry_run,omitempty"`
	Error     string `json:"error,omitempty"`
}

// SetError records the run's error in the summary's JSON form.
func (s *ReconcileSummary) SetError(msg string) { s.Error = msg }

// Reconcile runs the reconcile job once. dl, when not nil, queues the log
// download of a job found completed (as a delivery would). An error is
// returned with the summary when some refresh failed.
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
		o.MaxJobs = 500
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sum := &ReconcileSummary{DryRun: o.DryRun}
	cutoff := db.FormatTime(time.Now().Add(-o.StuckAfter))
	rows, err := d.Query(ctx, `SELECT repo, number FROM workflow_job
 WHERE status IN ('queued', 'in_progress', 'waiting', 'requested', 'pending') AND updated_at < ? ORDER BY updated_at`, cutoff)
	if err != nil {
		return sum, fmt.Errorf("reconcile: select stuck jobs: %w", err)
	}
	type stuck struct {
		repo string
		id   int64
	}
	var todo []stuck
	for rows.Next() {
		var s stuck
		var id *int64
		if err := rows.Scan(&s.repo, &id); err != nil {
			rows.Close()
			return sum, fmt.Errorf("reconcile: scan: %w", err)
		}
		if id == nil || !matchAny(o.Repos, s.repo) {
			continue
		}
		s.id = *id
		todo = append(todo, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sum, fmt.Errorf("reconcile: select stuck jobs: %w", err)
	}
	sum.Stuck = len(todo)
	var failures []string
	source := "reconcile:" + db.Now()
	for i, s := range todo {
		if i >= o.MaxJobs {
			sum.OverLimit = len(todo) - o.MaxJobs
			break
		}
		if o.DryRun {
			continue
		}
		obj, status, err := fetchJob(ctx, gh, s.repo, s.id)
		if status == http.StatusNotFound {
			sum.NotFound++
			continue
		}
		if err != nil {
			sum.Failed++
			failures = append(failures, err.Error())
			continue
		}
		sum.Checked++
		ok, err := webhooks.ApplyObject(ctx, d, "workflow_job", s.repo, obj, source, webhooks.ApplyOptions{Logs: dl, Dynamo: o.Dynamo})
		if err != nil {
			sum.Failed++
			failures = append(failures, err.Error())
			continue
		}
		if ok {
			sum.Updated++
			log.Info("stuck workflow job refreshed", "repo", s.repo, "job", s.id)
		} else {
			sum.Unchanged++
		}
	}
	m.reconciled(sum)
	if len(failures) > 0 {
		return sum, fmt.Errorf("reconcile: %d job(s) failed: %s", len(failures), strings.Join(failures, "; "))
	}
	return sum, nil
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
