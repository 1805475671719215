package jobs

import (
	"context"
	"fmt"
	"strings"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/notify"
	"github.com/ghsync/ghsync/internal/statuses"
	"github.com/ghsync/ghsync/internal/store"
)

// EnvGraphQLURL overrides the GraphQL endpoint derived from the API base URL.
const EnvGraphQLURL = "GITHUB_GRAPHQL_URL"

// runStatuses runs a kind: statuses job and sends an error alert when a
// branch failed. Snapshots change on most runs of an active repository, so
// no change alert is sent.
func (r *Runner) runStatuses(ctx context.Context, job *config.Job, ro RunOptions) (*Result, error) {
	sum, err := r.Statuses(ctx, job.Statuses, ro)
	res := &Result{Job: job.Name, Kind: job.Kind, Summary: sum}
	if sum != nil {
		res.Changed = sum.Changed()
	}
	if err != nil && !ro.DryRun {
		_ = r.notifier(ctx, job).Send(ctx, notify.Alert{Level: notify.LevelError, Job: job.Name, Title: "status snapshot failed",
			Text: err.Error(), Details: map[string]any{"repo": job.Statuses.Repo, "dest": store.Redact(job.Statuses.Dest)}})
	}
	return res, err
}

// Statuses writes the status snapshots sj describes (also used by
// `ghsync statuses` with a job built from flags).
func (r *Runner) Statuses(ctx context.Context, sj *config.StatusesJob, ro RunOptions) (*statuses.Summary, error) {
	owner, repo, ok := strings.Cut(sj.Repo, "/")
	if !ok || owner == "" || repo == "" {
		return nil, fmt.Errorf("%w: repo %q: want OWNER/REPO", ErrUsage, sj.Repo)
	}
	gh, err := r.GitHub(ctx)
	if err != nil {
		return nil, err
	}
	hc, err := gh.HTTPClient(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("github client for %s: %w", owner, err)
	}
	endpoint := statuses.GraphQLURL(gh.BaseURL())
	if r.Getenv != nil && r.Getenv(EnvGraphQLURL) != "" {
		endpoint = r.Getenv(EnvGraphQLURL)
	}
	b, err := store.Open(ctx, sj.Dest, store.Options{Logger: r.Logger})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	defer b.Close()
	return statuses.Run(ctx, statuses.Options{
		HTTP: hc, GraphQLURL: endpoint, Owner: owner, Repo: repo, Branches: sj.Branches,
		HistorySize: sj.HistorySize, Bucket: b, Format: sj.Format, DryRun: ro.DryRun, Logger: r.Logger,
	})
}
