package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ghsync/ghsync/internal/apisync"
	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/notify"
	"github.com/ghsync/ghsync/internal/reposync"
	"github.com/ghsync/ghsync/internal/store"
)

// checkReposFrom validates a fanned-out repo job: a query, a database URL
// when given, and source/dest templates that use at least one column.
func checkReposFrom(f *ReposFrom, r *RepoSettings, c *config.Checker) {
	if strings.TrimSpace(f.Query) == "" {
		c.Errorf("repos_from.query", "is required")
	}
	if f.Database != "" {
		c.Database("repos_from.database", &f.Database)
	}
	if len(apisync.TemplateColumns(r.Source))+len(apisync.TemplateColumns(r.Dest)) == 0 {
		c.Errorf("source", "with repos_from, source or dest must use the query's columns, e.g. github:acme/{repo}@{ref} (got %q)", config.Truncate(r.Source, 60))
	}
}

// FanoutSummary is the outcome of a fanned-out repo job (repos_from, or a
// whole owner): one entry per row (per repository).
type FanoutSummary struct {
	// Owner is set for a whole-owner job (source github:OWNER/*).
	Owner string `json:"owner,omitempty"`
	// Listed is how many repositories the owner's listing held (whole
	// owner); ListingNotModified that GitHub answered the listing 304.
	Listed             int         `json:"listed,omitempty"`
	ListingNotModified bool        `json:"listing_not_modified,omitempty"`
	Rows               []FanoutRow `json:"rows"`
	OK                 int         `json:"ok"`
	Failed             int         `json:"failed"`
	DryRun             bool        `json:"dry_run,omitempty"`
	Error              string      `json:"error,omitempty"`
}

// FanoutRow is one row's sync.
type FanoutRow struct {
	Row     map[string]string `json:"row"`
	Source  string            `json:"source,omitempty"`
	Dest    string            `json:"dest,omitempty"`
	Summary *reposync.Summary `json:"summary,omitempty"`
	// Removed is set for a repository that left a whole owner's listing.
	Removed *RemovedRepo `json:"removed,omitempty"`
	Error   string       `json:"error,omitempty"`
}

// SetError implements ErrorSetter.
func (s *FanoutSummary) SetError(msg string) { s.Error = msg }

// Changed reports whether any row's sync changed something.
func (s *FanoutSummary) Changed() bool {
	for _, r := range s.Rows {
		if r.Summary != nil && r.Summary.Changed() || r.Removed != nil && r.Removed.Deleted > 0 && !s.DryRun {
			return true
		}
	}
	return false
}

// runFanout runs one sync per row of the job's query; a failing row does
// not stop the others. The error names every failed row.
func runFanout(ctx context.Context, env *Env, job *config.Job, r *RepoSettings, ro RunOptions) (*Result, error) {
	d, err := env.OpenDB(ctx, r.ReposFrom.Database)
	if err != nil {
		return nil, fmt.Errorf("repos_from: %w", err)
	}
	rows, err := apisync.QueryRowsDB(ctx, d, r.ReposFrom.Query)
	if err != nil && ro.DryRun && absentSQLite(r.ReposFrom.Database) {
		return nil, fmt.Errorf("repos_from: %s does not exist yet (nothing to fan out; a dry run does not create it): %w", r.ReposFrom.Database, err)
	}
	if err != nil {
		return nil, fmt.Errorf("repos_from query: %w", err)
	}
	records, err := openReleaseRecords(ctx, env, job.Name, r)
	if err != nil {
		return nil, err
	}
	sum := &FanoutSummary{DryRun: ro.DryRun, Rows: []FanoutRow{}}
	var errs []error
	for i, row := range rows {
		fr := FanoutRow{Row: row}
		rs := *r
		rs.ReposFrom = nil
		rs.Source, err = apisync.Expand(r.Source, row)
		if err == nil {
			rs.Dest, err = apisync.Expand(r.Dest, row)
		}
		if err == nil {
			fr.Source, fr.Dest = rs.Source, store.Redact(rs.Dest)
			ro := ro
			ro.Progress = nil // one progress bar per job, not per row
			records.before(rs.Source)
			fr.Summary, err = SyncRepo(ctx, env, job.Name, &rs, ro)
			records.after(rs.Source, err != nil)
		}
		if err != nil {
			fr.Error = err.Error()
			sum.Failed++
			errs = append(errs, fmt.Errorf("row %d (%s): %w", i+1, rowText(row), err))
		} else {
			sum.OK++
		}
		sum.Rows = append(sum.Rows, fr)
	}
	if rerr := records.close(ctx, ro.DryRun); rerr != nil {
		errs = append(errs, rerr)
	}
	res := &Result{Summary: sum, Changed: sum.Changed()}
	res.SetText(func(w io.Writer) { writeFanoutText(w, sum) })
	err = errors.Join(errs...)
	if err != nil {
		err = fmt.Errorf("%d of %d rows failed: %w", sum.Failed, len(rows), err)
	}
	alertFanout(ctx, env, job, ro, sum, res.Changed, err)
	return res, err
}

// rowText renders a row as col=value pairs, sorted by column.
func rowText(row map[string]string) string {
	var parts []string
	keys := make([]string, 0, len(row))
	for k := range row {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+row[k])
	}
	return strings.Join(parts, " ")
}

func writeFanoutText(w io.Writer, s *FanoutSummary) { io.WriteString(w, fanoutText(s)) }

func fanoutText(s *FanoutSummary) string {
	var b strings.Builder
	noun := "rows"
	if s.Owner != "" {
		noun = "repositories"
		listing := "changed"
		if s.ListingNotModified {
			listing = "not modified"
		}
		fmt.Fprintf(&b, "%s: %d repositories listed (listing %s), %d kept by the filters\n", s.Owner, s.Listed, listing, s.kept())
	}
	for _, r := range s.Rows {
		switch {
		case r.Removed != nil:
			writeRemovedText(&b, r, s.DryRun)
		case r.Error != "":
			fmt.Fprintf(&b, "failed  %s: %s\n", rowText(r.Row), r.Error)
		case r.Summary != nil:
			writeRepoText(&b, r.Summary, nil)
		}
	}
	fmt.Fprintf(&b, "%d %s: %d ok, %d failed\n", len(s.Rows), noun, s.OK, s.Failed)
	return b.String()
}

// kept counts the rows of repositories in the listing (not removed ones).
func (s *FanoutSummary) kept() int {
	n := 0
	for _, r := range s.Rows {
		if r.Removed == nil {
			n++
		}
	}
	return n
}

// writeRemovedText writes the line of a repository that left the listing.
func writeRemovedText(b *strings.Builder, r FanoutRow, dryRun bool) {
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	switch {
	case r.Error != "":
		fmt.Fprintf(b, "failed  %s left the listing; removing %s: %s\n", r.Row["repo"], r.Dest, r.Error)
	case r.Removed.Kept != "":
		fmt.Fprintf(b, "kept    %s (%s): %s\n", r.Row["repo"], r.Dest, r.Removed.Kept)
	default:
		fmt.Fprintf(b, "%s %s (%s, left the listing): %d objects deleted (delete: %s)\n", verb, r.Row["repo"], r.Dest, r.Removed.Deleted, r.Removed.Policy)
	}
}

// alertFanout sends a fanned-out run's alert (repos_from rows, or a whole
// owner's repositories): an error alert naming the failed rows, or a change
// alert with the summary; none for dry runs or when alerts are off.
func alertFanout(ctx context.Context, env *Env, job *config.Job, ro RunOptions, sum *FanoutSummary, changed bool, err error) {
	if ro.DryRun || ro.NoAlerts {
		return
	}
	switch {
	case err != nil:
		env.Alert(ctx, job, notify.Alert{Level: notify.LevelError, Title: "sync failed", Text: err.Error()})
	case changed:
		env.Alert(ctx, job, notify.Alert{Level: notify.LevelChange, Title: "synced", Text: fanoutText(sum),
			Details: map[string]any{"summary": sum}})
	}
}
