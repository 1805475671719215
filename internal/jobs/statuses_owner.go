package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/notify"
	"github.com/ghsync/ghsync/internal/reposync"
	"github.com/ghsync/ghsync/internal/statuses"
	"github.com/ghsync/ghsync/internal/store"
)

// A statuses job with repos: OWNER/* snapshots every repository of OWNER
// the credentials can see (filtered as a whole-owner repo job is: see
// OwnerFilter), each at DEST/OWNER/REPO/BRANCH.json as a one-repository
// job writes it; branches defaults to each repository's default branch.
// The listing and the repositories snapshotted are kept under
// DEST/.ghsync/statuses-repos.json: the listing is conditional (304 when
// unchanged), a repository that appears is snapshotted by the next run,
// and the snapshots of one that leaves are deleted (delete: managed, the
// default) or kept (delete: none) — never when the listing failed, and
// not when more than half leave at once unless forced. Each repository is
// a row; one repository's failure fails only its row.

// statusesOwnerStateKey is the state object of a whole-owner statuses job.
const statusesOwnerStateKey = ownerStateDir + "/statuses-repos.json"

// checkStatusesOwner validates the whole-owner settings of a statuses job.
func checkStatusesOwner(s *StatusesSettings, c *config.Checker) {
	if s.Repos == "" {
		for _, key := range []string{"include_repos", "exclude_repos", "topics", "visibility", "archived", "delete"} {
			if c.Has(key) {
				c.Errorf(key, "goes with repos: OWNER/* (every repository of an owner); a job with repo: OWNER/REPO takes no %s", key)
			}
		}
		return
	}
	owner, rest, ok := strings.Cut(s.Repos, "/")
	if !ok || rest != "*" || owner == "" || strings.ContainsAny(owner, "*?[") {
		c.Errorf("repos", "want OWNER/* (every repository of OWNER; use repo: OWNER/REPO for one), got %q", config.Truncate(s.Repos, 60))
	}
	if s.Delete == "" {
		s.Delete = reposync.DeleteManaged
	}
	c.OneOf("delete", s.Delete, reposync.DeleteNone, reposync.DeleteManaged)
	s.ownerFilter().check(c, "include_repos", "exclude_repos", "topics", "visibility")
}

func (s *StatusesSettings) ownerFilter() OwnerFilter {
	return OwnerFilter{Include: s.IncludeRepos, Exclude: s.ExcludeRepos, Topics: s.Topics, Visibility: s.Visibility, Archived: s.Archived}
}

// StatusesOwnerSummary is the outcome of a whole-owner statuses job.
type StatusesOwnerSummary struct {
	Owner              string        `json:"owner"`
	Listed             int           `json:"listed"`
	ListingNotModified bool          `json:"listing_not_modified,omitempty"`
	Repos              []StatusesRow `json:"repos"`
	OK                 int           `json:"ok"`
	Failed             int           `json:"failed"`
	DryRun             bool          `json:"dry_run,omitempty"`
	Error              string        `json:"error,omitempty"`
}

// StatusesRow is one repository of a whole-owner statuses job.
type StatusesRow struct {
	Repo    string            `json:"repo"`
	Summary *statuses.Summary `json:"summary,omitempty"`
	Removed *RemovedRepo      `json:"removed,omitempty"`
	Error   string            `json:"error,omitempty"`
}

// SetError implements ErrorSetter.
func (s *StatusesOwnerSummary) SetError(msg string) { s.Error = msg }

// Changed reports whether any repository's snapshots changed.
func (s *StatusesOwnerSummary) Changed() bool {
	for _, r := range s.Repos {
		if r.Summary != nil && r.Summary.Changed() || r.Removed != nil && r.Removed.Deleted > 0 && !s.DryRun {
			return true
		}
	}
	return false
}

// runStatusesOwner runs a whole-owner statuses job.
func runStatusesOwner(ctx context.Context, env *Env, job *config.Job, s *StatusesSettings, ro RunOptions) (*Result, error) {
	owner := strings.TrimSuffix(s.Repos, "/*")
	sum := &StatusesOwnerSummary{Owner: owner, DryRun: ro.DryRun, Repos: []StatusesRow{}}
	res := &Result{Summary: sum}
	res.SetText(func(w io.Writer) { writeStatusesOwnerText(w, sum) })
	err := statusesOwnerRows(ctx, env, job, s, owner, ro, sum)
	res.Changed = sum.Changed()
	if err != nil && !ro.DryRun && !ro.NoAlerts {
		env.Alert(ctx, job, notify.Alert{Level: notify.LevelError, Title: "status snapshot failed",
			Text: err.Error(), Details: map[string]any{"repos": s.Repos, "dest": store.Redact(s.Dest)}})
	}
	return res, err
}

func statusesOwnerRows(ctx context.Context, env *Env, job *config.Job, s *StatusesSettings, owner string, ro RunOptions, sum *StatusesOwnerSummary) error {
	b, err := env.OpenStore(ctx, s.Dest, store.Options{})
	if err != nil {
		return err
	}
	defer b.Close()
	v, err := listOwner(ctx, env, b, statusesOwnerStateKey, owner, s.ownerFilter(), "snapshotted")
	if err != nil {
		return err
	}
	prev, gh, listing, notModified, keep := v.prev, v.gh, v.listing, v.notModified, v.keep
	sum.Listed, sum.ListingNotModified = len(listing.Repos()), notModified

	rows := make([]StatusesRow, len(keep))
	shape := fmt.Sprintf("%s/%d", s.Format, s.HistorySize)
	heads := map[string]map[string]headState{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, ownerConcurrency)
	for i, r := range keep {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			one := *s
			one.Repos, one.Repo = "", owner+"/"+r.Name
			if len(one.Branches) == 0 {
				one.Branches = []string{r.DefaultBranch}
			}
			rows[i] = StatusesRow{Repo: r.Name}
			if r.DefaultBranch == "" && len(s.Branches) == 0 {
				rows[i].Error = "the repository has no default branch (it is empty); nothing to snapshot"
				return
			}
			var prevHeads map[string]headState
			if prev != nil && prev.Shape == shape {
				prevHeads = prev.Heads[r.Name]
			}
			checked, settled := checkHeads(ctx, gh, b, owner, r.Name, one.Branches, prevHeads)
			if settled {
				rows[i].Summary = unchangedSummary(&one, owner, r.Name, checked)
			} else {
				rs, err := Statuses(ctx, env, &one, ro)
				rows[i].Summary = rs
				if err != nil {
					rows[i].Error = err.Error()
				}
				if rs != nil {
					for _, br := range rs.Branches {
						if br.Result == "failed" {
							delete(checked, br.Branch) // not snapshotted: never skipped next time
						}
					}
				}
			}
			mu.Lock()
			heads[r.Name] = checked
			mu.Unlock()
		}()
	}
	wg.Wait()

	var names, gone []string
	for _, r := range keep {
		names = append(names, r.Name)
	}
	if prev != nil {
		for _, n := range prev.Mirrored {
			if !slices.ContainsFunc(names, func(k string) bool { return strings.EqualFold(k, n) }) {
				gone = append(gone, n)
			}
		}
	}
	removed, pending, rerr := removeGoneSnapshots(ctx, b, s, owner, gone, prev, ro)
	rows = append(rows, removed...)
	var errs []error
	for _, r := range rows {
		sum.Repos = append(sum.Repos, r)
		if r.Error != "" {
			sum.Failed++
			errs = append(errs, fmt.Errorf("%s/%s: %s", owner, r.Repo, r.Error))
		} else {
			sum.OK++
		}
	}
	if rerr != nil {
		errs = append(errs, rerr)
	}
	if !ro.DryRun {
		mirrored := append(names, pending...)
		sort.Strings(mirrored)
		st := &ownerState{Version: 1, Job: job.Name, Source: s.Repos, Listing: listing, Mirrored: mirrored, Heads: heads, Shape: shape}
		if prev == nil || !notModified || !slices.Equal(prev.Mirrored, st.Mirrored) || prev.Shape != shape || !sameHeads(prev.Heads, heads) {
			if err := writeJSON(ctx, b, statusesOwnerStateKey, st); err != nil {
				errs = append(errs, fmt.Errorf("record the listing: %w", err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%d of %d repositories of %s failed: %w", sum.Failed, len(sum.Repos), owner, err)
	}
	return nil
}

// removeGoneSnapshots deletes the snapshots (DEST/OWNER/REPO/*.json) of
// the repositories that left the listing, as the delete policy says.
func removeGoneSnapshots(ctx context.Context, b *store.Bucket, s *StatusesSettings, owner string, gone []string, prev *ownerState, ro RunOptions) (rows []StatusesRow, pending []string, err error) {
	if len(gone) == 0 {
		return nil, nil, nil
	}
	if s.Delete == reposync.DeleteNone {
		for _, n := range gone {
			rows = append(rows, StatusesRow{Repo: n, Removed: &RemovedRepo{Policy: s.Delete, Kept: "left the listing; delete: none keeps its snapshots"}})
		}
		return rows, nil, nil
	}
	if len(gone) > max(len(prev.Mirrored)/2, 1) && !ro.Force {
		for _, n := range gone {
			rows = append(rows, StatusesRow{Repo: n, Removed: &RemovedRepo{Policy: s.Delete, Kept: "not removed: too many repositories left the listing at once"}})
		}
		return rows, gone, fmt.Errorf("%d of the %d repositories snapshotted so far left the listing of %s; none was removed (check the listing, then run with --force)",
			len(gone), len(prev.Mirrored), owner)
	}
	var keys []string
	if err := b.List(ctx, func(o store.Object) error { keys = append(keys, o.Key); return nil }); err != nil {
		return nil, gone, fmt.Errorf("list %s: %w", store.Redact(b.URL()), err)
	}
	for _, n := range gone {
		dir := strings.ToLower(owner + "/" + n + "/")
		var del []string
		for _, k := range keys {
			if rest, ok := strings.CutPrefix(strings.ToLower(k), dir); ok && !strings.Contains(rest, "/") && strings.HasSuffix(rest, ".json") {
				del = append(del, k)
			}
		}
		row := StatusesRow{Repo: n, Removed: &RemovedRepo{Policy: s.Delete, Deleted: len(del)}}
		if !ro.DryRun && len(del) > 0 {
			if err := b.Delete(ctx, del); err != nil {
				row.Error = err.Error()
				pending = append(pending, n)
			}
		}
		rows = append(rows, row)
	}
	return rows, pending, nil
}

// readOwnerStateAt reads a whole-owner job's state at key; nil when absent.
func readOwnerStateAt(ctx context.Context, b *store.Bucket, key string) (*ownerState, error) {
	data, _, err := b.Read(ctx, key)
	if errors.Is(err, store.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s%s: %w", store.Redact(b.URL()), key, err)
	}
	var st ownerState
	if err := jsonUnmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("read %s%s: %w (delete it to start over)", store.Redact(b.URL()), key, err)
	}
	return &st, nil
}

// writeStatusesOwnerText writes the human form of a whole-owner summary.
func writeStatusesOwnerText(w io.Writer, s *StatusesOwnerSummary) {
	listing := "changed"
	if s.ListingNotModified {
		listing = "not modified"
	}
	fmt.Fprintf(w, "%s: %d repositories listed (listing %s)\n", s.Owner, s.Listed, listing)
	for _, r := range s.Repos {
		switch {
		case r.Removed != nil && r.Error != "":
			fmt.Fprintf(w, "failed  %s left the listing; removing its snapshots: %s\n", r.Repo, r.Error)
		case r.Removed != nil && r.Removed.Kept != "":
			fmt.Fprintf(w, "kept    %s: %s\n", r.Repo, r.Removed.Kept)
		case r.Removed != nil:
			fmt.Fprintf(w, "removed %s (left the listing): %d snapshots deleted\n", r.Repo, r.Removed.Deleted)
		case r.Summary != nil:
			writeStatusesText(w, r.Summary)
			if r.Error != "" && r.Summary.BranchesFailed == 0 {
				fmt.Fprintf(w, "failed  %s: %s\n", r.Repo, r.Error)
			}
		case r.Error != "":
			fmt.Fprintf(w, "failed  %s: %s\n", r.Repo, r.Error)
		}
	}
	fmt.Fprintf(w, "%d repositories: %d ok, %d failed\n", len(s.Repos), s.OK, s.Failed)
}

// checkHeads asks GitHub, conditionally on the validators the last run
// recorded, for the head of each branch of owner/name (one REST request
// each, answered 304 and free of rate limit when the branch did not move).
// settled is true when every branch is unchanged and its stored snapshot
// is of that head with every commit settled (statuses.Snapshot.Settled):
// a run would then fetch nothing and write nothing, so none is made. The
// heads (with their new validators) are returned to be recorded; a
// failure to check only means the run is made.
func checkHeads(ctx context.Context, gh *github.Client, b *store.Bucket, owner, name string, branches []string, prev map[string]headState) (map[string]headState, bool) {
	out := map[string]headState{}
	rc, err := gh.For(ctx, owner, name)
	if err != nil {
		return out, false
	}
	settled := true
	for _, br := range branches {
		p, had := prev[br]
		sha, etag, notModified, err := rc.ResolveCommit(ctx, br, p.ETag)
		if err != nil {
			settled = false
			continue
		}
		if notModified {
			sha = p.SHA
		}
		out[br] = headState{SHA: sha, ETag: etag}
		if !had || !notModified || !snapshotSettled(ctx, b, statuses.Key(owner, name, br), sha) {
			settled = false
		}
	}
	return out, settled
}

// snapshotSettled reports whether the snapshot at key is of head and has
// every commit settled.
func snapshotSettled(ctx context.Context, b *store.Bucket, key, head string) bool {
	body, _, err := b.Read(ctx, key)
	if err != nil {
		return false
	}
	snap, err := statuses.Parse(body)
	if err != nil || len(snap.Commits) == 0 || snap.Commits[0].SHA != head {
		return false
	}
	return snap.Settled(time.Now(), 0)
}

// unchangedSummary is the summary of a repository whose snapshots were
// proven current without a run.
func unchangedSummary(s *StatusesSettings, owner, name string, heads map[string]headState) *statuses.Summary {
	sum := &statuses.Summary{Repo: owner + "/" + name, Dest: store.Redact(s.Dest), Format: s.Format, Branches: []statuses.BranchResult{}}
	for _, br := range s.Branches {
		sum.Branches = append(sum.Branches, statuses.BranchResult{Branch: br, Key: statuses.Key(owner, name, br), Head: heads[br].SHA, Result: "unchanged"})
		sum.BranchesUnchanged++
	}
	return sum
}

// sameHeads reports whether two head records are equal.
func sameHeads(a, b map[string]map[string]headState) bool {
	if len(a) != len(b) {
		return false
	}
	for repo, x := range a {
		y, ok := b[repo]
		if !ok || len(x) != len(y) {
			return false
		}
		for br, h := range x {
			if y[br] != h {
				return false
			}
		}
	}
	return true
}
