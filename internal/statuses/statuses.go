// Package statuses writes status snapshots: for each branch of a
// repository, the newest N commits with the status of every CI job that ran
// on them (GitHub Actions check runs, other apps' check runs, legacy commit
// statuses), as one gzip-compressed JSON object per branch that a static HUD
// page can fetch. See docs/statuses.md for the formats.
//
// Run fetches through GitHub's GraphQL API: one request lists the heads and
// history of every branch; only commits that are new, or whose jobs had not
// all concluded in the stored snapshot, are fetched again, in batches sized
// to GitHub's node limits, with nested check suites and check runs
// paginated to the end. A branch whose data could not all be fetched keeps
// its previous object; an unchanged snapshot is not rewritten.
package statuses

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/store"
)

// Defaults of Options.
const (
	DefaultHistorySize  = 100
	DefaultCommitsPage  = 100
	DefaultSuitesPage   = 30
	DefaultRunsPage     = 30
	DefaultNodeBudget   = 200000
	DefaultAttempts     = 4
	DefaultSettle       = time.Hour
	DefaultRetryWait    = time.Second
	snapshotCacheHeader = "no-cache"
)

// Options configures one Run.
type Options struct {
	// HTTP is the authenticated GitHub client (github.Client.HTTPClient):
	// credentials, API version header, rate-limit waits and 5xx retries.
	HTTP *http.Client
	// GraphQLURL is the GraphQL endpoint (see GraphQLURL).
	GraphQLURL string
	// Owner and Repo name the repository.
	Owner, Repo string
	// Branches to snapshot (at least one).
	Branches []string
	// HistorySize is the number of commits per branch (default 100).
	HistorySize int
	// Bucket is the destination; keys are OWNER/REPO/BRANCH.json under its prefix.
	Bucket *store.Bucket
	// Format is FormatV5 (default) or FormatGhsync.
	Format string
	// DryRun fetches and compares but writes nothing.
	DryRun bool
	// Logger receives progress and warnings; nil discards.
	Logger *slog.Logger
	// CommitsPage, SuitesPage and RunsPage are the starting page sizes
	// (commits per request, check suites per commit page, check runs per
	// suite page); they shrink when GitHub says a query is too heavy.
	// Zero means the defaults (100, 30, 30).
	CommitsPage, SuitesPage, RunsPage int
	// NodeBudget bounds the node count of a request for nested pages
	// (default 200,000; GitHub's limit is 500,000).
	NodeBudget int
	// Attempts is how many times a query GitHub answers with a transient
	// GraphQL error is sent (default 4); RetryWait is the first backoff
	// (default 1s). Network errors and 5xx answers are retried by HTTP's
	// transport; both draw on the run's github.RetryBudget (the context's,
	// else a default one).
	Attempts  int
	RetryWait time.Duration
	// Settle is how long a commit without any job is refetched (CI may not
	// have started yet); default 1h.
	Settle time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// BranchResult is the outcome for one branch.
type BranchResult struct {
	Branch string `json:"branch"`
	Key    string `json:"key"`
	Head   string `json:"head,omitempty"`
	// Commits is the number of commits in the snapshot.
	Commits int `json:"commits"`
	// Fetched is how many of them were fetched in this run.
	Fetched int `json:"fetched"`
	// Result is "written", "unchanged", "would write" (dry run) or "failed".
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
}

// Summary is what a Run did; its JSON keys are the --json summary.
type Summary struct {
	Repo              string `json:"repo"`
	Dest              string `json:"dest"`
	Format            string `json:"format"`
	DryRun            bool   `json:"dry_run,omitempty"`
	BranchesWritten   int    `json:"branches_written"`
	BranchesUnchanged int    `json:"branches_unchanged"`
	BranchesFailed    int    `json:"branches_failed"`
	CommitsFetched    int    `json:"commits_fetched"`
	CommitsReused     int    `json:"commits_reused"`
	// GraphQLRequests is the HTTP requests actually sent to the GraphQL
	// endpoint, every retry included; GraphQLRetries how many of them
	// were resends of a query after a failure.
	GraphQLRequests int            `json:"graphql_requests"`
	GraphQLRetries  int            `json:"graphql_retries"`
	GraphQLCost     int            `json:"graphql_cost"`
	StoreWrites     int            `json:"store_writes"`
	DurationMS      int64          `json:"duration_ms"`
	Branches        []BranchResult `json:"branches"`
}

// Changed reports whether the run wrote (or, dry, would write) anything.
func (s *Summary) Changed() bool {
	for _, b := range s.Branches {
		if b.Result == "written" || b.Result == "would write" {
			return true
		}
	}
	return false
}

// BranchError is the failure of one branch.
type BranchError struct {
	Branch string
	Err    error
}

func (e *BranchError) Error() string { return fmt.Sprintf("branch %s: %v", e.Branch, e.Err) }
func (e *BranchError) Unwrap() error { return e.Err }

// Key returns the object key of branch: OWNER/REPO/BRANCH.json with every
// "/" of the branch replaced by "_".
func Key(owner, repo, branch string) string {
	return owner + "/" + repo + "/" + strings.ReplaceAll(branch, "/", "_") + ".json"
}

// branchState is one branch during a Run.
type branchState struct {
	name   string
	key    string
	etag   string
	stored []byte // stored JSON (uncompressed), nil if none
	prev   map[string]*Commit
	window []string
	need   []string
	err    error
}

func (o *Options) defaults() error {
	if o.HTTP == nil || o.Bucket == nil {
		return errors.New("statuses: HTTP client and Bucket are required")
	}
	if o.Owner == "" || o.Repo == "" || len(o.Branches) == 0 {
		return errors.New("statuses: owner, repo and at least one branch are required")
	}
	if o.HistorySize <= 0 {
		o.HistorySize = DefaultHistorySize
	}
	if o.Format == "" {
		o.Format = FormatV5
	}
	if o.Format != FormatV5 && o.Format != FormatGhsync {
		return fmt.Errorf("statuses: format %q: want %s or %s", o.Format, FormatV5, FormatGhsync)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	set := func(p *int, d int) {
		if *p <= 0 {
			*p = d
		}
	}
	set(&o.CommitsPage, DefaultCommitsPage)
	set(&o.SuitesPage, DefaultSuitesPage)
	set(&o.RunsPage, DefaultRunsPage)
	set(&o.NodeBudget, DefaultNodeBudget)
	set(&o.Attempts, DefaultAttempts)
	o.CommitsPage, o.SuitesPage, o.RunsPage = min(o.CommitsPage, 100), min(o.SuitesPage, 100), min(o.RunsPage, 100)
	if o.RetryWait <= 0 {
		o.RetryWait = DefaultRetryWait
	}
	if o.Settle <= 0 {
		o.Settle = DefaultSettle
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Run writes the snapshots of o.Branches. The error is nil when every
// branch was written or unchanged; otherwise it joins a *BranchError per
// failed branch (those branches keep their previous objects), and the
// Summary still describes the branches that succeeded.
func Run(ctx context.Context, o Options) (*Summary, error) {
	start := time.Now()
	if err := o.defaults(); err != nil {
		return nil, err
	}
	sum := &Summary{Repo: o.Owner + "/" + o.Repo, Dest: store.Redact(o.Bucket.URL()), Format: o.Format, DryRun: o.DryRun}
	gql := &gqlClient{http: o.HTTP, endpoint: firstNonEmpty(o.GraphQLURL, GraphQLURL(""))}
	f := &fetcher{gql: gql, owner: o.Owner, name: o.Repo, ghsync: o.Format == FormatGhsync,
		sz: sizes{o.CommitsPage, o.SuitesPage, o.RunsPage}, budget: o.NodeBudget, attempts: o.Attempts, wait: o.RetryWait, log: o.Logger}
	// One retry budget for the whole run (the runner's, or a default one),
	// shared by the transport and the GraphQL layer.
	ctx, _ = github.EnsureRetryBudget(ctx)
	defer func() {
		sum.GraphQLRequests, sum.GraphQLCost = int(gql.attempts.Load()), gql.cost
		sum.GraphQLRetries = max(0, sum.GraphQLRequests-gql.queries)
		sum.DurationMS = time.Since(start).Milliseconds()
	}()

	branches := make([]*branchState, len(o.Branches))
	for i, b := range o.Branches {
		branches[i] = &branchState{name: b, key: Key(o.Owner, o.Repo, b)}
		if err := loadStored(ctx, &o, branches[i]); err != nil {
			return sum, err
		}
	}
	lists, herrs, err := f.heads(ctx, o.Branches, o.HistorySize)
	if err != nil {
		for _, b := range branches {
			b.err = err
		}
	} else {
		for i, b := range branches {
			b.window, b.err = lists[i], herrs[i]
		}
	}
	reuse := reusable(&o, branches)
	fetched := map[string]*Commit{}
	for _, b := range branches {
		b.prev = reuse
		if b.err != nil {
			continue
		}
		// New commits and unfinished ones; a commit shared with an earlier
		// branch is fetched once (or again here if that branch failed).
		for _, sha := range b.window {
			if reuse[sha] == nil && fetched[sha] == nil {
				b.need = append(b.need, sha)
			}
		}
		if len(b.need) == 0 {
			continue
		}
		got, err := f.fetchCommits(ctx, b.need)
		if err != nil {
			b.err = err
			continue
		}
		for sha, c := range got {
			fetched[sha] = c
		}
		sum.CommitsFetched += len(got)
	}
	return sum, finish(ctx, &o, branches, fetched, sum)
}

// loadStored reads a branch's stored snapshot; an unreadable one is logged
// and treated as absent.
func loadStored(ctx context.Context, o *Options, b *branchState) error {
	body, etag, err := o.Bucket.Read(ctx, b.key)
	if errors.Is(err, store.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", b.key, err)
	}
	raw, commits, err := decode(o.Format, body)
	b.etag, b.stored = etag, raw
	if err != nil {
		o.Logger.Warn("stored snapshot unreadable; fetching everything again", "key", b.key, "error", err.Error())
	}
	b.prev = map[string]*Commit{}
	for _, c := range commits {
		b.prev[c.SHA] = c
	}
	return nil
}

// reusable collects the settled commits of every stored snapshot: a
// commit whose jobs had all concluded is not fetched again, whichever
// branch's snapshot it was in.
func reusable(o *Options, branches []*branchState) map[string]*Commit {
	now := o.Now()
	reuse := map[string]*Commit{}
	for _, b := range branches {
		for sha, c := range b.prev {
			if settled(c, now, o.Settle) {
				reuse[sha] = c
			}
		}
	}
	return reuse
}

// finish assembles, compares and writes each branch's snapshot.
func finish(ctx context.Context, o *Options, branches []*branchState, fetched map[string]*Commit, sum *Summary) error {
	var errs []error
	for _, b := range branches {
		res := BranchResult{Branch: b.name, Key: b.key}
		if len(b.window) > 0 {
			res.Head = b.window[0]
		}
		if b.err == nil {
			b.err = write(ctx, o, b, fetched, sum, &res)
		}
		if b.err != nil {
			res.Result, res.Error = "failed", b.err.Error()
			sum.BranchesFailed++
			errs = append(errs, &BranchError{Branch: b.name, Err: b.err})
			o.Logger.Error("status snapshot failed; previous object kept", "branch", b.name, "key", b.key, "error", b.err.Error())
		}
		sum.Branches = append(sum.Branches, res)
	}
	if len(errs) > 0 {
		names := make([]string, 0, len(errs))
		for _, e := range errs {
			names = append(names, e.(*BranchError).Branch)
		}
		return fmt.Errorf("statuses %s/%s: %d of %d branches failed (%s): %w",
			o.Owner, o.Repo, len(errs), len(branches), strings.Join(names, ", "), errors.Join(errs...))
	}
	return nil
}

// write builds one branch's snapshot and stores it unless unchanged.
func write(ctx context.Context, o *Options, b *branchState, fetched map[string]*Commit, sum *Summary, res *BranchResult) error {
	commits := make([]*Commit, 0, len(b.window))
	for _, sha := range b.window {
		c := fetched[sha]
		if c == nil {
			c = b.prev[sha]
		} else {
			res.Fetched++
		}
		if c == nil {
			return fmt.Errorf("commit %s missing from the fetched data", sha[:min(12, len(sha))])
		}
		commits = append(commits, c)
	}
	sum.CommitsReused += len(commits) - res.Fetched
	res.Commits = len(commits)
	body, err := encode(o.Format, o.Owner+"/"+o.Repo, b.name, commits)
	if err != nil {
		return err
	}
	if b.stored != nil && bytes.Equal(body, b.stored) {
		res.Result = "unchanged"
		sum.BranchesUnchanged++
		return nil
	}
	if o.DryRun {
		res.Result = "would write"
		sum.BranchesWritten++
		return nil
	}
	zbody, err := gz(body)
	if err != nil {
		return err
	}
	writeID := newWriteID()
	po := store.PutOptions{ContentType: "application/json", ContentEncoding: "gzip", CacheControl: snapshotCacheHeader,
		Size: int64(len(zbody)), Metadata: map[string]string{writeIDMeta: writeID}}
	if b.etag != "" {
		po.IfMatch = b.etag
	} else {
		po.IfNoneMatch = true
	}
	if _, err := o.Bucket.Put(ctx, b.key, bytes.NewReader(zbody), po); err != nil {
		if !errors.Is(err, store.ErrPreconditionFailed) {
			return fmt.Errorf("write %s: %w", b.key, err)
		}
		// A retry after an attempt whose answer was lost fails the
		// condition on this run's own write: then the write is done.
		landed, cerr := ownWriteLanded(ctx, o.Bucket, b.key, o.Format, writeID, body)
		if cerr != nil {
			return fmt.Errorf("write %s: changed by someone else during the run (%v): %w", b.key, cerr, err)
		}
		if !landed {
			return fmt.Errorf("write %s: changed by someone else during the run: %w", b.key, err)
		}
		o.Logger.Info("status snapshot write refused on its condition, but the stored object is this run's write "+
			"(the answer to an earlier attempt was lost)", "branch", b.name, "key", b.key)
	}
	sum.StoreWrites++
	res.Result = "written"
	sum.BranchesWritten++
	o.Logger.Info("status snapshot written", "branch", b.name, "key", b.key, "commits", len(commits), "fetched", res.Fetched)
	return nil
}
