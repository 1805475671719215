package jobs

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/notify"
	"github.com/ghsync/ghsync/internal/statuses"
	"github.com/ghsync/ghsync/internal/store"
)

// KindStatuses is the name of the statuses kind: status snapshots of
// branches written for a HUD.
const KindStatuses = "statuses"

// EnvGraphQLURL overrides the GraphQL endpoint derived from the API base URL.
const EnvGraphQLURL = "GITHUB_GRAPHQL_URL"

// StatusesSettings are the settings of a statuses job (defaults applied and
// Dest resolved once loaded).
type StatusesSettings struct {
	// Repo is OWNER/REPO; Repos (OWNER/*) instead snapshots every
	// repository of OWNER (statuses_owner.go). Exactly one is set.
	Repo  string `yaml:"repo"`
	Repos string `yaml:"repos"`
	// IncludeRepos, ExcludeRepos, Topics, Visibility and Archived choose
	// the repositories of Repos; Delete (none, managed: the default) says
	// what happens to the snapshots of one that leaves the listing.
	IncludeRepos []string `yaml:"include_repos"`
	ExcludeRepos []string `yaml:"exclude_repos"`
	Topics       []string `yaml:"topics"`
	Visibility   string   `yaml:"visibility"`
	Archived     *bool    `yaml:"archived"`
	Delete       string   `yaml:"delete"`
	// Branches are the branches to snapshot (at least one; with Repos,
	// empty means each repository's default branch).
	Branches []string `yaml:"branches"`
	// HistorySize is the number of commits per branch (default 100, 1..1000).
	HistorySize int `yaml:"history_size"`
	// Dest is the store URL + prefix.
	Dest string `yaml:"dest" cfg:"required"`
	// Format is statuses.FormatV5 (default) or statuses.FormatGhsync.
	Format string `yaml:"format"`
}

// statusesKind writes status snapshots (internal/statuses).
type statusesKind struct{}

func (statusesKind) Name() string     { return KindStatuses }
func (statusesKind) NewSettings() any { return &StatusesSettings{} }

// StatusesOf returns the settings of a statuses job (nil for other kinds).
func StatusesOf(job *config.Job) *StatusesSettings {
	s, _ := job.Settings.(*StatusesSettings)
	return s
}

// Check applies the defaults and validates the settings.
func (statusesKind) Check(v any, c *config.Checker) {
	s := v.(*StatusesSettings)
	if !c.Has("history_size") {
		s.HistorySize = statuses.DefaultHistorySize
	}
	if s.Format == "" {
		s.Format = statuses.FormatV5
	}
	switch {
	case s.Repo != "" && s.Repos != "":
		c.Errorf("repos", "set repo (one repository) or repos (OWNER/*, every repository of an owner), not both")
	case s.Repos != "":
		checkStatusesOwner(s, c)
	default:
		c.OwnerRepo("repo", s.Repo)
		checkStatusesOwner(s, c) // the owner-only settings are refused without repos
		if len(s.Branches) == 0 {
			c.Errorf("branches", "at least one branch is required")
		}
	}
	seen := map[string]bool{}
	for i, b := range s.Branches {
		key := fmt.Sprintf("branches[%d]", i)
		switch {
		case strings.TrimSpace(b) == "":
			c.Errorf(key, "must not be empty")
		case seen[b]:
			c.Errorf(key, "duplicate branch %q", config.Truncate(b, 60))
		}
		seen[b] = true
	}
	c.Range("history_size", s.HistorySize, 1, 1000)
	c.Dest("dest", &s.Dest)
	c.OneOf("format", s.Format, statuses.FormatV5, statuses.FormatGhsync)
}

func (statusesKind) Describe(job *config.Job) Description {
	s := StatusesOf(job)
	dest := store.Redact(s.Dest)
	src, branches := s.Repo, strings.Join(s.Branches, ", ")
	if s.Repos != "" {
		src = s.Repos
		if branches == "" {
			branches = "each repository's default branch"
		}
	}
	return Description{Source: src, Dest: dest, Snapshots: s.Dest, Settings: []Setting{
		{"repository", src}, {"branches", branches}, {"dest", dest},
		{"format", s.Format}, {"history size", strconv.Itoa(s.HistorySize)},
	}}
}

func (statusesKind) Needs(job *config.Job) Needs {
	return Needs{Stores: []StoreUse{{URL: StatusesOf(job).Dest, Access: AccessReadWrite, Key: "dest"}}}
}

// Run writes the snapshots and sends an error alert when a branch failed.
// Snapshots change on most runs of an active repository, so no change
// alert is sent.
func (statusesKind) Run(ctx context.Context, env *Env, job *config.Job, ro RunOptions) (*Result, error) {
	s := StatusesOf(job)
	if s.Repos != "" {
		return runStatusesOwner(ctx, env, job, s, ro)
	}
	sum, err := Statuses(ctx, env, s, ro)
	res := &Result{}
	if sum != nil {
		res.Summary, res.Changed = sum, sum.Changed()
		res.SetText(func(w io.Writer) { writeStatusesText(w, sum) })
	}
	if err != nil && !ro.DryRun && !ro.NoAlerts {
		env.Alert(ctx, job, notify.Alert{Level: notify.LevelError, Title: "status snapshot failed",
			Text: err.Error(), Details: map[string]any{"repo": s.Repo, "dest": store.Redact(s.Dest)}})
	}
	return res, err
}

// Statuses writes the status snapshots sj describes.
func Statuses(ctx context.Context, env *Env, sj *StatusesSettings, ro RunOptions) (*statuses.Summary, error) {
	owner, repo, ok := strings.Cut(sj.Repo, "/")
	if !ok || owner == "" || repo == "" {
		return nil, Usagef("repo %q: want OWNER/REPO", sj.Repo)
	}
	gh, err := env.GitHub(ctx)
	if err != nil {
		return nil, err
	}
	hc, err := gh.HTTPClient(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("github client for %s: %w", owner, err)
	}
	endpoint := statuses.GraphQLURL(gh.BaseURL())
	if u := env.Getenv(EnvGraphQLURL); u != "" {
		endpoint = u
	}
	b, err := env.OpenStore(ctx, sj.Dest, store.Options{})
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return statuses.Run(ctx, statuses.Options{
		HTTP: hc, GraphQLURL: endpoint, Owner: owner, Repo: repo, Branches: sj.Branches,
		HistorySize: sj.HistorySize, Bucket: b, Format: sj.Format, DryRun: ro.DryRun, Logger: env.Logger,
		RetryWait: env.GitHubRetryBase, // zero: statuses' default
	})
}

// StatusesJobFor returns the configured statuses job snapshotting repo
// (OWNER/REPO, case-insensitive), or nil: a job for that repository, else
// a job over its whole owner whose include_repos/exclude_repos keep it.
func StatusesJobFor(cfg *config.Config, repo string) *config.Job {
	for _, j := range cfg.Jobs {
		if s := StatusesOf(j); s != nil && strings.EqualFold(s.Repo, repo) {
			return j
		}
	}
	owner, name, _ := strings.Cut(repo, "/")
	for _, j := range cfg.Jobs {
		s := StatusesOf(j)
		if s == nil || s.Repos == "" || !strings.EqualFold(strings.TrimSuffix(s.Repos, "/*"), owner) {
			continue
		}
		if f := (OwnerFilter{Include: s.IncludeRepos, Exclude: s.ExcludeRepos}); f.Keep(github.OwnerRepo{Name: name}) {
			return j
		}
	}
	return nil
}

// writeStatusesText writes the human form of a statuses summary.
func writeStatusesText(w io.Writer, s *statuses.Summary) {
	for _, b := range s.Branches {
		line := fmt.Sprintf("%-12s %s → %s (%d commits, %d fetched)", b.Result, b.Branch, b.Key, b.Commits, b.Fetched)
		if b.Error != "" {
			line = fmt.Sprintf("%-12s %s: %s", b.Result, b.Branch, b.Error)
		}
		fmt.Fprintln(w, line)
	}
	retries := ""
	if s.GraphQLRetries > 0 {
		retries = fmt.Sprintf(" (%d of them retries)", s.GraphQLRetries)
	}
	fmt.Fprintf(w, "%s: %d written, %d unchanged, %d failed; %d commits fetched; %d GraphQL requests%s, cost %d; %.1fs\n",
		s.Repo, s.BranchesWritten, s.BranchesUnchanged, s.BranchesFailed, s.CommitsFetched, s.GraphQLRequests, retries, s.GraphQLCost, float64(s.DurationMS)/1000)
}
