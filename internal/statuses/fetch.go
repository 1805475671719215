package statuses

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/ctxtime"
	"github.com/ghsync/ghsync/internal/github"
)

// fetcher runs the GraphQL queries of one Run.
type fetcher struct {
	gql      *gqlClient
	owner    string
	name     string
	ghsync   bool
	sz       sizes
	budget   int // node budget of one continuation request
	attempts int
	wait     time.Duration
	log      *slog.Logger
}

// query runs one query, retrying transient GraphQL failures (an answer
// saying "Something went wrong", a body cut short) with exponential backoff,
// at most f.attempts times and within the run's retry budget (shared with
// the transport, which retries network errors and 5xx answers itself).
// Heavy failures are returned at once so the caller can shrink.
func (f *fetcher) query(ctx context.Context, q string, vars map[string]any, out any) error {
	all := map[string]any{"owner": f.owner, "name": f.name}
	for k, v := range vars {
		all[k] = v
	}
	wait := f.wait
	for attempt := 1; ; attempt++ {
		err := f.gql.do(ctx, q, all, out)
		var qe *QueryError
		if err == nil || !errors.As(err, &qe) || qe.Heavy || !qe.Transient || attempt >= f.attempts {
			return err
		}
		if refused := github.TakeRetry(ctx, wait); refused != "" {
			return fmt.Errorf("%w (the query was sent %d times; %s)", err, attempt, refused)
		}
		f.log.Warn("graphql request failed, retrying", "attempt", attempt, "error", err.Error(), "backoff", wait)
		if err := ctxtime.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("graphql retry: %w", err)
		}
		wait *= 2
	}
}

// heads returns, per branch, the head oid and up to n history oids (newest
// first); a missing branch has a nil list and an error in errs.
func (f *fetcher) heads(ctx context.Context, branches []string, n int) ([][]string, []error, error) {
	q, vars := headsQuery(branches, min(n, 100))
	var resp struct {
		Repository map[string]*struct {
			Target struct {
				OID     string `json:"oid"`
				History *struct {
					PageInfo pageInfo `json:"pageInfo"`
					Nodes    []struct {
						OID string `json:"oid"`
					} `json:"nodes"`
				} `json:"history"`
			} `json:"target"`
		} `json:"repository"`
	}
	if err := f.query(ctx, q, vars, &resp); err != nil {
		return nil, nil, fmt.Errorf("list branch heads of %s/%s: %w", f.owner, f.name, err)
	}
	lists := make([][]string, len(branches))
	errs := make([]error, len(branches))
	var more []historyPage
	for i, b := range branches {
		ref := resp.Repository[fmt.Sprintf("b%d", i)]
		if ref == nil || ref.Target.History == nil {
			errs[i] = fmt.Errorf("branch %q not found in %s/%s", b, f.owner, f.name)
			continue
		}
		for _, nd := range ref.Target.History.Nodes {
			lists[i] = append(lists[i], nd.OID)
		}
		if pi := ref.Target.History.PageInfo; pi.HasNextPage && len(lists[i]) < n {
			more = append(more, historyPage{branch: i, head: ref.Target.OID, after: pi.EndCursor, first: min(100, n-len(lists[i]))})
		}
	}
	for len(more) > 0 {
		q, vars := historyQuery(more)
		var hr struct {
			Repository map[string]*struct {
				History struct {
					PageInfo pageInfo `json:"pageInfo"`
					Nodes    []struct {
						OID string `json:"oid"`
					} `json:"nodes"`
				} `json:"history"`
			} `json:"repository"`
		}
		if err := f.query(ctx, q, vars, &hr); err != nil {
			for _, p := range more {
				errs[p.branch] = fmt.Errorf("list history of %s: %w", branches[p.branch], err)
				lists[p.branch] = nil
			}
			break
		}
		var next []historyPage
		for k, p := range more {
			h := hr.Repository[fmt.Sprintf("h%d", k)]
			if h == nil {
				errs[p.branch] = fmt.Errorf("list history of %s: commit %s vanished", branches[p.branch], p.head)
				lists[p.branch] = nil
				continue
			}
			for _, nd := range h.History.Nodes {
				lists[p.branch] = append(lists[p.branch], nd.OID)
			}
			if h.History.PageInfo.HasNextPage && len(lists[p.branch]) < n {
				next = append(next, historyPage{branch: p.branch, head: p.head, after: h.History.PageInfo.EndCursor, first: min(100, n-len(lists[p.branch]))})
			}
		}
		more = next
	}
	return lists, errs, nil
}

// commitAcc accumulates one commit across pages.
type commitAcc struct {
	raw    rawCommit
	suites []*suiteAcc
	byID   map[string]*suiteAcc
}

type suiteAcc struct {
	raw  rawSuite
	runs []rawRun
}

// pending lists the nested pages still missing for the accumulated commits.
func pending(accs map[string]*commitAcc, order []string) []contItem {
	var out []contItem
	for _, sha := range order {
		a := accs[sha]
		if a == nil {
			continue
		}
		if cs := a.raw.CheckSuites; cs != nil && cs.PageInfo.HasNextPage {
			out = append(out, contItem{sha: sha, after: cs.PageInfo.EndCursor})
		}
		for _, s := range a.suites {
			if rc := s.raw.CheckRuns; rc != nil && rc.PageInfo.HasNextPage {
				out = append(out, contItem{sha: sha, suiteID: s.raw.ID, after: rc.PageInfo.EndCursor})
			}
		}
	}
	return out
}

func (a *commitAcc) addSuites(nodes []rawSuite) {
	for _, s := range nodes {
		sa := &suiteAcc{raw: s}
		if s.CheckRuns != nil {
			sa.runs = append(sa.runs, s.CheckRuns.Nodes...)
		}
		a.suites = append(a.suites, sa)
		a.byID[s.ID] = sa
	}
}

// fetchCommits fetches shas with all their checks, paginating nested
// connections to the end. Any failure fails the whole call (the caller's
// branch keeps its previous object).
func (f *fetcher) fetchCommits(ctx context.Context, shas []string) (map[string]*Commit, error) {
	accs := map[string]*commitAcc{}
	for start := 0; start < len(shas); {
		n := min(f.sz.commits, len(shas)-start)
		if err := f.fetchBatch(ctx, shas[start:start+n], accs); err != nil {
			return nil, err
		}
		start += n
	}
	maxItems := 100
	for {
		items := pending(accs, shas)
		if len(items) == 0 {
			break
		}
		round, nodes := []contItem{}, 0
		for _, it := range items {
			c := contNodes(it, f.sz)
			if len(round) > 0 && (nodes+c > f.budget || len(round) >= maxItems) {
				break
			}
			round = append(round, it)
			nodes += c
		}
		err := f.fetchMore(ctx, round, accs)
		var qe *QueryError
		if errors.As(err, &qe) && qe.Heavy && !github.RetryBudgetFrom(ctx).Spent() && (len(round) > 1 || f.shrink()) {
			maxItems = max(1, len(round)/2)
			f.log.Warn("graphql query too heavy, shrinking", "items", len(round), "next", maxItems)
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	out := make(map[string]*Commit, len(accs))
	for sha, a := range accs {
		out[sha] = a.commit()
	}
	return out, nil
}

// shrink halves the nested page sizes; false when they are already minimal.
func (f *fetcher) shrink() bool {
	if f.sz.suites <= 1 && f.sz.runs <= 1 {
		return false
	}
	f.sz.suites, f.sz.runs = max(1, f.sz.suites/2), max(1, f.sz.runs/2)
	return true
}

// fetchBatch fetches one batch of commits, splitting it (and then shrinking
// the nested page sizes) while GitHub says the query is too heavy.
func (f *fetcher) fetchBatch(ctx context.Context, shas []string, accs map[string]*commitAcc) error {
	var resp struct {
		Repository map[string]*rawCommit `json:"repository"`
	}
	err := f.query(ctx, detailsQuery(shas, f.sz, f.ghsync), nil, &resp)
	var qe *QueryError
	if errors.As(err, &qe) && qe.Heavy && !github.RetryBudgetFrom(ctx).Spent() {
		if len(shas) > 1 {
			f.sz.commits = max(1, len(shas)/2)
			f.log.Warn("graphql query too heavy, splitting the page", "commits", len(shas), "next", f.sz.commits)
			for start := 0; start < len(shas); start += f.sz.commits {
				if err := f.fetchBatch(ctx, shas[start:min(len(shas), start+f.sz.commits)], accs); err != nil {
					return err
				}
			}
			return nil
		}
		if f.shrink() {
			f.log.Warn("graphql query too heavy, shrinking nested pages", "suites", f.sz.suites, "runs", f.sz.runs)
			return f.fetchBatch(ctx, shas, accs)
		}
	}
	if err != nil {
		return fmt.Errorf("fetch %d commits from %s: %w", len(shas), shas[0][:min(12, len(shas[0]))], err)
	}
	for i, sha := range shas {
		rc := resp.Repository[fmt.Sprintf("c%d", i)]
		if rc == nil || rc.OID == "" {
			return fmt.Errorf("commit %s not found in %s/%s", sha, f.owner, f.name)
		}
		a := &commitAcc{raw: *rc, byID: map[string]*suiteAcc{}}
		if rc.CheckSuites != nil {
			a.addSuites(rc.CheckSuites.Nodes)
		}
		accs[sha] = a
	}
	return nil
}

// fetchMore fetches one round of nested pages and merges them.
func (f *fetcher) fetchMore(ctx context.Context, items []contItem, accs map[string]*commitAcc) error {
	q, vars := contQuery(items, f.sz, f.ghsync)
	var resp map[string]json.RawMessage
	if err := f.query(ctx, q, vars, &resp); err != nil {
		return fmt.Errorf("fetch %d nested check pages: %w", len(items), err)
	}
	var repo map[string]*struct {
		CheckSuites *suiteConn `json:"checkSuites"`
	}
	if raw := resp["repository"]; len(raw) > 0 {
		_ = json.Unmarshal(raw, &repo)
	}
	for i, it := range items {
		a := accs[it.sha]
		if it.suiteID == "" {
			p := repo[fmt.Sprintf("p%d", i)]
			if p == nil || p.CheckSuites == nil {
				return fmt.Errorf("more check suites of %s: commit vanished", it.sha)
			}
			a.raw.CheckSuites.PageInfo = p.CheckSuites.PageInfo
			a.addSuites(p.CheckSuites.Nodes)
			continue
		}
		var node *struct {
			CheckRuns *runConn `json:"checkRuns"`
		}
		if raw := resp[fmt.Sprintf("r%d", i)]; len(raw) > 0 {
			_ = json.Unmarshal(raw, &node)
		}
		sa := a.byID[it.suiteID]
		if node == nil || node.CheckRuns == nil || sa == nil {
			return fmt.Errorf("more check runs of suite %s on %s: suite vanished", it.suiteID, it.sha)
		}
		sa.raw.CheckRuns.PageInfo = node.CheckRuns.PageInfo
		sa.runs = append(sa.runs, node.CheckRuns.Nodes...)
	}
	return nil
}

// commit converts the accumulated GraphQL data into a snapshot Commit.
func (a *commitAcc) commit() *Commit {
	r := a.raw
	c := &Commit{SHA: r.OID, Headline: r.MessageHeadline, Body: r.MessageBody, Date: r.AuthoredDate, Jobs: []Job{}}
	if r.Author != nil {
		c.Author = r.Author.Name
		if r.Author.User != nil && r.Author.User.Login != "" {
			c.Author = r.Author.User.Login
		}
	}
	if pr := r.AssociatedPullRequests; pr != nil && len(pr.Nodes) > 0 {
		c.PR = pr.Nodes[0].Number
	}
	for _, s := range a.suites {
		app, slug := "", ""
		if s.raw.App != nil {
			app, slug = s.raw.App.Name, s.raw.App.Slug
		}
		prefix, workflow := app, ""
		var wfRun int64
		runNumber := 0
		if wr := s.raw.WorkflowRun; slug == "github-actions" && wr != nil {
			if wr.Workflow != nil {
				prefix, workflow = wr.Workflow.Name, wr.Workflow.Name
			}
			wfRun, runNumber = wr.DatabaseID, wr.RunNumber
		}
		for _, run := range s.runs {
			name := run.Name
			if prefix != "" {
				name = prefix + " / " + run.Name
			}
			c.Jobs = append(c.Jobs, Job{
				Name: name, Status: runStatus(run.Status, run.Conclusion), URL: run.DetailsURL,
				Kind: "check_run", App: app, Workflow: workflow, CheckRunID: run.DatabaseID,
				WorkflowRunID: wfRun, RunNumber: runNumber, StartedAt: run.StartedAt, CompletedAt: run.CompletedAt,
			})
		}
	}
	if r.Status != nil {
		for _, sc := range r.Status.Contexts {
			c.Jobs = append(c.Jobs, Job{Name: sc.Context, Status: strings.ToLower(sc.State), URL: sc.TargetURL, Kind: "status"})
		}
	}
	sortJobs(c.Jobs)
	return c
}

// runStatus maps a check run's status and conclusion to a v5 job status:
// the lower-cased conclusion once completed, "pending" while in progress and
// "queued" before that (queued, requested, waiting, pending).
func runStatus(status, conclusion string) string {
	switch status {
	case "COMPLETED":
		if conclusion == "" {
			return "neutral"
		}
		return strings.ToLower(conclusion)
	case "IN_PROGRESS":
		return "pending"
	}
	return "queued"
}
