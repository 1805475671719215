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

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// A repo job whose source is github:OWNER/* mirrors every repository of
// OWNER the credentials can see (the App installation's, or the token's),
// filtered by include_repos, exclude_repos, topics, visibility and
// archived, each to DEST/{repo}/ with its own manifest (its own owner,
// github:OWNER/REPO, so the prefix is guarded as any repo job's is). The
// listing, and which repositories the job mirrored, are kept under
// DEST/.ghsync/repos.json, so that
//
//   - the next listing is conditional: a steady run costs one request for
//     the listing and one per repository, all answered 304;
//   - a repository that appears is mirrored by the next run;
//   - one that leaves the listing (deleted, archived, filtered out) is
//     handled by the job's delete policy: none keeps its prefix, managed
//     deletes what the job wrote there, all empties it. A run whose listing
//     failed removes nothing; a run that would remove more than half of the
//     repositories mirrored so far removes none unless forced (a listing
//     that lost repositories because the credentials lost access looks
//     like that).
//
// Repositories are synced at most ownerConcurrency at a time; each is a
// row of the summary, and one repository's failure fails only its row.

// ownerConcurrency bounds the repositories synced at once.
const ownerConcurrency = 4

// ownerStateKey is the state object of a whole-owner job, under its dest.
const ownerStateKey = ownerStateDir + "/repos.json"

// wholeOwner reports whether src is a github:OWNER/* source.
func wholeOwner(src string) bool {
	sp, err := source.ParseSpec(src)
	return err == nil && sp.WholeOwner()
}

// checkOwnerSource validates the whole-owner settings: they only go with a
// github:OWNER/* source, whose dest is a plain prefix (no placeholders).
func checkOwnerSource(r *RepoSettings, c *config.Checker) {
	f := r.ownerFilter()
	if !wholeOwner(r.Source) {
		for _, key := range []string{"include_repos", "exclude_repos", "topics", "visibility", "archived"} {
			if c.Has(key) {
				c.Errorf(key, "chooses repositories of a whole owner: it goes with source: github:OWNER/* (got source %q)", config.Truncate(r.Source, 60))
			}
		}
		return
	}
	if r.ReposFrom != nil {
		c.Errorf("repos_from", "cannot be combined with source: github:OWNER/* (the owner's listing gives the repositories)")
	}
	if strings.Contains(r.Dest, "{") {
		c.Errorf("dest", "with source github:OWNER/*, dest is the prefix every repository goes under (as DEST/{repo}/); it takes no placeholders (got %q)", store.Redact(r.Dest))
	}
	f.check(c, "include_repos", "exclude_repos", "topics", "visibility")
	if sp, _ := source.ParseSpec(r.Source); sp.Release != "" && !c.Has("key_template") {
		r.KeyTemplate = "{tag}/" // DEST/{repo}/{tag}/: the repository is already in the prefix
	}
}

// ownerFilter returns r's whole-owner filter.
func (r *RepoSettings) ownerFilter() OwnerFilter {
	return OwnerFilter{Include: r.IncludeRepos, Exclude: r.ExcludeRepos, Topics: r.Topics, Visibility: r.Visibility, Archived: r.Archived}
}

// ownerState is what a whole-owner job keeps between runs.
type ownerState struct {
	Version int    `json:"version"`
	Job     string `json:"job,omitempty"`
	Source  string `json:"source"`
	// Listing is the owner's last listing, with its validators.
	Listing *github.RepoListing `json:"listing,omitempty"`
	// Mirrored are the repositories whose prefixes the job manages: those
	// it mirrors, and those that left the listing but whose prefixes are
	// not handled yet (a refused or failed removal).
	Mirrored []string `json:"mirrored"`
	// Heads (statuses jobs) are, per repository and branch, the head the
	// last run snapshotted and its validator; Shape is the settings they
	// were snapshotted with (format, history size).
	Heads map[string]map[string]headState `json:"heads,omitempty"`
	Shape string                          `json:"shape,omitempty"`
	// Releases (repo jobs over releases) are, per repository, the release
	// last resolved and its tag's commit, with their validators, so the
	// next run (a new process too) resolves an unchanged release with one
	// request answered 304.
	Releases map[string]github.ReleaseRecord `json:"releases,omitempty"`
}

// headState is a branch head as a statuses job last snapshotted it.
type headState struct {
	SHA  string `json:"sha"`
	ETag string `json:"etag"`
}

// runOwner runs a whole-owner repo job.
func runOwner(ctx context.Context, env *Env, job *config.Job, r *RepoSettings, ro RunOptions) (*Result, error) {
	spec, err := source.ParseSpec(r.Source)
	if err != nil {
		return nil, Usage(err)
	}
	sum := &FanoutSummary{DryRun: ro.DryRun, Rows: []FanoutRow{}, Owner: spec.Owner}
	res := &Result{Summary: sum}
	res.SetText(func(w io.Writer) { writeFanoutText(w, sum) })
	err = runOwnerRows(ctx, env, job, r, spec, ro, sum)
	res.Changed = sum.Changed()
	alertFanout(ctx, env, job, ro, sum, res.Changed, err)
	return res, err
}

// runOwnerRows lists the owner, syncs each kept repository, handles the
// ones that left, and records the state. The error names every failed row.
func runOwnerRows(ctx context.Context, env *Env, job *config.Job, r *RepoSettings, spec source.Spec, ro RunOptions, sum *FanoutSummary) error {
	b, err := env.OpenStore(ctx, r.Dest, store.Options{})
	if err != nil {
		return err
	}
	defer b.Close()
	v, err := listOwner(ctx, env, b, ownerStateKey, spec.Owner, r.ownerFilter(), "synced")
	if err != nil {
		return err
	}
	prev, gh, listing, notModified := v.prev, v.gh, v.listing, v.notModified
	sum.ListingNotModified = notModified
	keep := make([]string, len(v.keep))
	for i, repo := range v.keep {
		keep[i] = repo.Name
	}
	sum.Listed = len(listing.Repos())

	rows := make([]FanoutRow, len(keep))
	releases := map[string]github.ReleaseRecord{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, ownerConcurrency)
	for i, name := range keep {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if rec, ok := prev.release(name); ok && spec.Release != "" {
				gh.RestoreRelease(spec.Owner, name, spec.Release, rec)
			}
			rows[i] = syncOwnerRepo(ctx, env, job, r, spec, name, ro)
			if spec.Release == "" {
				return
			}
			rec, ok := gh.ReleaseRecord(spec.Owner, name, spec.Release)
			if rows[i].Error != "" { // keep what the last good run resolved
				rec, ok = prev.release(name)
			}
			if ok {
				mu.Lock()
				releases[name] = rec
				mu.Unlock()
			}
		}()
	}
	wg.Wait()

	var errs []error
	// A repository named like the state folder is never mirrored (its row
	// fails), so its prefix is never the job's to remove.
	mirrored := slices.DeleteFunc(slices.Clone(keep), func(n string) bool { return strings.EqualFold(n, ownerStateDir) })
	for _, row := range rows {
		if row.Error != "" {
			errs = append(errs, fmt.Errorf("%s: %s", row.Row["repo"], row.Error))
		}
	}
	var gone []string
	if prev != nil {
		for _, name := range prev.Mirrored {
			if !slices.ContainsFunc(keep, func(k string) bool { return strings.EqualFold(k, name) }) {
				gone = append(gone, name)
			}
		}
	}
	removed, kept, rerr := removeGone(ctx, env, r, spec, gone, prev, ro)
	rows = append(rows, removed...)
	mirrored = append(mirrored, kept...)
	if rerr != nil {
		errs = append(errs, rerr)
	}
	for _, row := range rows {
		sum.Rows = append(sum.Rows, row)
		if row.Error != "" {
			sum.Failed++
		} else {
			sum.OK++
		}
	}
	if !ro.DryRun {
		sort.Strings(mirrored)
		st := &ownerState{Version: 1, Job: job.Name, Source: r.Source, Listing: listing, Mirrored: mirrored}
		if len(releases) > 0 {
			st.Releases = releases
		}
		if prev == nil || !notModified || !slices.Equal(prev.Mirrored, st.Mirrored) || prev.Source != st.Source || !sameReleases(prev.Releases, st.Releases) {
			if err := writeJSON(ctx, b, ownerStateKey, st); err != nil {
				errs = append(errs, fmt.Errorf("record the listing: %w", err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%d of %d repositories of %s failed: %w", sum.Failed, len(sum.Rows), spec.Owner, err)
	}
	return nil
}

// syncOwnerRepo mirrors one repository of the owner to DEST/{name}/.
func syncOwnerRepo(ctx context.Context, env *Env, job *config.Job, r *RepoSettings, spec source.Spec, name string, ro RunOptions) FanoutRow {
	rs := *r
	rs.Source, rs.Dest = spec.ForRepo(name), repoDest(r.Dest, name)
	rs.Invalidate = nil // a whole-owner job invalidates no CDN: its syncs record no keys
	row := FanoutRow{Row: map[string]string{"repo": name}, Source: rs.Source, Dest: store.Redact(rs.Dest)}
	if strings.EqualFold(name, ownerStateDir) {
		row.Error = fmt.Sprintf("not mirrored: DEST/%s/ holds the job's own state; leave it out with exclude_repos: [%q]", ownerStateDir, ownerStateDir)
		return row
	}
	ro.Progress = nil // one progress bar per job, not per repository
	s, err := SyncRepo(ctx, env, job.Name, &rs, ro)
	row.Summary = s
	if err != nil {
		row.Error = err.Error()
	}
	return row
}

// release returns the release record kept for repository name.
func (st *ownerState) release(name string) (github.ReleaseRecord, bool) {
	if st == nil {
		return github.ReleaseRecord{}, false
	}
	rec, ok := st.Releases[name]
	return rec, ok
}

// sameReleases reports whether two sets of release records resolve alike.
func sameReleases(a, b map[string]github.ReleaseRecord) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || x.ETag != y.ETag || x.SHA != y.SHA || x.CommitETag != y.CommitETag || !x.At.Equal(y.At) {
			return false
		}
	}
	return true
}
