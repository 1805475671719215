package jobs

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/notify"
	"github.com/ghsync/ghsync/internal/webhooks/recovery"
)

// KindReconcile is the name of the reconcile kind: refresh workflow jobs
// stuck in queued/in_progress from the REST API (docs/webhooks.md,
// "Missed deliveries").
const KindReconcile = "reconcile"

// ReconcileSettings are the settings of a reconcile job.
type ReconcileSettings struct {
	// Repos are OWNER/REPO names or globs ("acme/*") whose jobs are
	// reconciled (at least one).
	Repos []string `yaml:"repos" cfg:"required"`
	// StuckAfter is how long a job may stay queued or in_progress before it
	// is refreshed (default 3h).
	StuckAfter config.Duration `yaml:"stuck_after"`
	// MaxJobs is how many stuck jobs one run refreshes (default 500); the
	// rest are left for the next runs. Jobs the API cannot help with (404,
	// no access, still stuck) are checked again only after a back-off, so
	// they never take the batch of newer stuck jobs.
	MaxJobs int `yaml:"max_jobs"`
}

// reconcileKind runs recovery.Reconcile.
type reconcileKind struct{}

func (reconcileKind) Name() string     { return KindReconcile }
func (reconcileKind) NewSettings() any { return &ReconcileSettings{} }

// ReconcileOf returns the settings of a reconcile job (nil for other kinds).
func ReconcileOf(job *config.Job) *ReconcileSettings {
	s, _ := job.Settings.(*ReconcileSettings)
	return s
}

// Check applies the defaults and validates the settings.
func (reconcileKind) Check(v any, c *config.Checker) {
	s := v.(*ReconcileSettings)
	if !c.Has("stuck_after") {
		s.StuckAfter = config.Duration(3 * time.Hour)
	}
	if !c.Has("max_jobs") {
		s.MaxJobs = recovery.DefaultMaxJobs
	}
	c.Range("max_jobs", s.MaxJobs, 1, 100000)
	if len(s.Repos) == 0 {
		c.Errorf("repos", "at least one repository (OWNER/REPO or a glob such as acme/*) is required")
	}
	for i, r := range s.Repos {
		if !strings.Contains(r, "/") || !doublestar.ValidatePattern(r) {
			c.Errorf(fmt.Sprintf("repos[%d]", i), "must be OWNER/REPO or a glob such as acme/* (got %q)", config.Truncate(r, 60))
		}
	}
	if s.StuckAfter <= 0 {
		c.Errorf("stuck_after", "must be positive")
	}
	if cfg := c.Config(); cfg != nil && cfg.Webhooks.DynamoOnly() {
		c.Errorf("kind", "%s finds stuck jobs in the SQL workflow_job table, which webhooks.dynamodb.sql_projections: false leaves empty (projections go only to DynamoDB); remove this job or set sql_projections: true", KindReconcile)
	}
}

func (reconcileKind) Describe(job *config.Job) Description {
	s := ReconcileOf(job)
	return Description{Source: strings.Join(s.Repos, ", "), Dest: "workflow_job projection (database)", Settings: []Setting{
		{"repositories", strings.Join(s.Repos, ", ")}, {"stuck after", s.StuckAfter.Std().String()}, {"max jobs per run", strconv.Itoa(s.MaxJobs)},
	}}
}

func (reconcileKind) Needs(*config.Job) Needs { return Needs{Database: true} }

// Run refreshes the stuck workflow jobs of the configured repositories.
func (reconcileKind) Run(ctx context.Context, env *Env, job *config.Job, ro RunOptions) (*Result, error) {
	s := ReconcileOf(job)
	if env.Config.Webhooks.DynamoOnly() {
		return nil, fmt.Errorf("job %s: kind %s needs the SQL workflow_job projection, but webhooks.dynamodb.sql_projections is false (projections only in DynamoDB)", job.Name, KindReconcile)
	}
	d, err := env.webhookDB(ctx)
	if err != nil {
		return nil, err
	}
	gh, err := env.GitHub(ctx)
	if err != nil {
		return nil, err
	}
	m, err := env.recoveryMetrics()
	if err != nil {
		return nil, err
	}
	dl, release, err := env.logDownloader(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	sum, err := recovery.Reconcile(ctx, d, gh, dl, recovery.ReconcileOptions{Repos: s.Repos, StuckAfter: s.StuckAfter.Std(),
		MaxJobs: s.MaxJobs, DryRun: ro.DryRun, Dynamo: env.Config.Webhooks.DynamoDB != nil}, m, env.Logger.With("job", job.Name))
	res := &Result{}
	if sum != nil {
		res.Summary, res.Changed = sum, sum.Updated > 0
		res.SetText(func(w io.Writer) { writeReconcileText(w, sum) })
	}
	if err != nil && !ro.DryRun && !ro.NoAlerts {
		env.Alert(ctx, job, notify.Alert{Level: notify.LevelError, Title: "workflow job reconciliation failed", Text: err.Error()})
	}
	return res, err
}

func writeReconcileText(w io.Writer, s *recovery.ReconcileSummary) {
	dry := ""
	if s.DryRun {
		dry = " (dry run: nothing refreshed)"
	}
	fmt.Fprintf(w, "%d stuck jobs: %d checked, %d updated, %d unchanged, %d not found, %d failed, %d left for the next run, %d waiting to be checked again%s\n",
		s.Stuck, s.Checked, s.Updated, s.Unchanged, s.NotFound, s.Failed, s.OverLimit, s.Deferred, dry)
}
