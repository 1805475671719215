package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/scheduler"
)

// inboxHistory is how many of an inbox job's newest runs the inbox pages
// read for the sets' reports.
const inboxHistory = 200

// Set states, worst first (the order of the inbox page).
const (
	stateFailed   = "failed"   // a check failed: the uploader has to fix the set
	stateGaveUp   = "gave-up"  // actions failed max_attempts times: not retried until the set changes
	stateRetrying = "retrying" // actions failed: the next run tries them again
	stateBusy     = "busy"     // another run is processing it
	statePassed   = "passed"   // every check passed, every action settled
)

var stateOrder = map[string]int{stateFailed: 0, stateGaveUp: 1, stateRetrying: 2, stateBusy: 3, statePassed: 4}

// stateLabels are the words the pages show for a state.
var stateLabels = map[string]string{
	stateFailed:   "checks failed",
	stateGaveUp:   "actions given up",
	stateRetrying: "actions to retry",
	stateBusy:     "being processed",
	statePassed:   "passed",
}

// inboxSet is one upload set of an inbox job as the pages show it: its
// newest processing (from the run history) and its ledger record.
type inboxSet struct {
	Job, Prefix string
	State       string // one of the state constants
	Label       string // the state in words
	// Set is the newest processing of the set that has its report (nil
	// when the history no longer has one).
	Set *setView
	// Run is the run that processed it (Set's run).
	Run *runView
	// Seen is when it was processed last (ledger, else the run's start).
	Seen time.Time
	// Attempts are the runs that processed its current content.
	Attempts int
	// Failed are the actions that failed (to retry, or given up on).
	Failed []string
	// Issue is the GitHub issue raised or commented on ("" when none).
	Issue string
	// Files and Invalid count the set's files and its invalid ones.
	Files, Invalid int
}

// ledgerRow is a row of the inbox ledger (package inbox, DBLedger).
type ledgerRow struct {
	Prefix, Issue string
	Passed, Done  bool
	Files         int
	Attempts      int
	Failed        []string
	At            time.Time
	ClaimedUntil  time.Time
}

// inboxJobs are the configured inbox jobs' names, in file order.
func (h *handler) inboxJobs() []string {
	var out []string
	if c := h.o.Config; c != nil {
		for _, j := range c.Jobs {
			if j.Kind == "inbox" {
				out = append(out, j.Name)
			}
		}
	}
	return out
}

// readLedger returns job's ledger rows by prefix; a database without the
// inbox tables (no DB ledger: sets recorded in the store) gives none.
func (h *handler) readLedger(ctx context.Context, job string) map[string]ledgerRow {
	rows, err := h.o.DB.R.QueryContext(ctx, h.o.DB.Rebind(`SELECT set_prefix, passed, files, processed_at, complete, attempts,
		failed_actions, github_issue, claim_until FROM inbox_sets WHERE job = ?`), job)
	if err != nil {
		h.log.Debug("ui: no inbox ledger in the database", "job", job, "err", err)
		return nil
	}
	defer rows.Close()
	out := map[string]ledgerRow{}
	for rows.Next() {
		var r ledgerRow
		var passed, complete int
		var at, failed, until string
		if err := rows.Scan(&r.Prefix, &passed, &r.Files, &at, &complete, &r.Attempts, &failed, &r.Issue, &until); err != nil {
			h.log.Warn("ui: read the inbox ledger", "job", job, "err", err)
			return out
		}
		r.Passed, r.Done = passed != 0, complete != 0
		r.At, _ = db.ParseTime(at)
		if until != "" {
			r.ClaimedUntil, _ = db.ParseTime(until)
		}
		if failed != "" {
			_ = json.Unmarshal([]byte(failed), &r.Failed)
		}
		out[r.Prefix] = r
	}
	return out
}

// jobSets gathers job's upload sets: every set of the ledger and of the
// newest runs, each with its newest report, sorted worst state first, then
// most recently processed first.
func (h *handler) jobSets(ctx context.Context, job string) ([]*inboxSet, error) {
	runs, err := scheduler.Runs(ctx, h.o.DB, scheduler.RunQuery{Job: job, Limit: inboxHistory})
	if err != nil {
		return nil, err
	}
	sets := map[string]*inboxSet{}
	for _, run := range runs { // newest first
		v := newRunView(run)
		for i := range v.Summary.Sets {
			sv := &v.Summary.Sets[i]
			s := sets[sv.Prefix]
			if s == nil {
				s = &inboxSet{Job: job, Prefix: sv.Prefix, Seen: run.StartedAt}
				sets[sv.Prefix] = s
				s.State = setState(sv)
				s.Attempts, s.Failed = sv.Attempt, sv.FailedActions
			}
			if s.Set == nil && !sv.Skipped && !sv.Busy {
				s.Set, s.Run = sv, v
				if s.Issue == "" {
					s.Issue = sv.Issue
				}
			}
		}
	}
	now := h.o.Now()
	for prefix, l := range h.readLedger(ctx, job) {
		s := sets[prefix]
		if s == nil {
			s = &inboxSet{Job: job, Prefix: prefix}
			sets[prefix] = s
		}
		s.Seen, s.Attempts, s.Failed = l.At, l.Attempts, l.Failed
		if l.Issue != "" {
			s.Issue = l.Issue
		}
		switch {
		case l.ClaimedUntil.After(now):
			s.State = stateBusy
		case !l.Passed:
			s.State = stateFailed
		case l.Done && len(l.Failed) > 0:
			s.State = stateGaveUp
		case len(l.Failed) > 0:
			s.State = stateRetrying
		default:
			s.State = statePassed
		}
		if !l.Passed && len(l.Failed) > 0 && l.Done {
			s.State = stateFailed // the worse of the two, and the uploader's to fix
		}
	}
	out := make([]*inboxSet, 0, len(sets))
	for _, s := range sets {
		if s.State == "" {
			s.State = statePassed
		}
		s.Label = stateLabels[s.State]
		if s.Set != nil {
			s.Files = len(s.Set.Files)
			for _, f := range s.Set.Files {
				if !f.Valid {
					s.Invalid++
				}
			}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if stateOrder[a.State] != stateOrder[b.State] {
			return stateOrder[a.State] < stateOrder[b.State]
		}
		if !a.Seen.Equal(b.Seen) {
			return a.Seen.After(b.Seen)
		}
		return a.Prefix < b.Prefix
	})
	return out, nil
}

// setState is the state a run's view of a set shows.
func setState(sv *setView) string {
	switch {
	case sv.Busy:
		return stateBusy
	case !sv.Passed && !sv.Skipped:
		return stateFailed
	case sv.GaveUp:
		return stateGaveUp
	case len(sv.FailedActions) > 0:
		return stateRetrying
	case sv.Skipped:
		return statePassed
	}
	return statePassed
}

// inboxData is the data of inbox.html.
type inboxData struct {
	Jobs []inboxJob
}

type inboxJob struct {
	Name string
	Sets []*inboxSet
	// Failing counts the sets in a failing state (failed, given up, retrying).
	Failing int
}

func (h *handler) inboxPage(w http.ResponseWriter, r *http.Request) {
	var data inboxData
	for _, job := range h.inboxJobs() {
		sets, err := h.jobSets(r.Context(), job)
		if err != nil {
			h.fail(w, r, http.StatusInternalServerError, "The run history could not be read.", err)
			return
		}
		j := inboxJob{Name: job, Sets: sets}
		for _, s := range sets {
			if stateOrder[s.State] <= stateOrder[stateRetrying] {
				j.Failing++
			}
		}
		data.Jobs = append(data.Jobs, j)
	}
	h.render(w, r, http.StatusOK, "inbox.html", "Inbox", "inbox", data)
}

// inboxSetData is the data of inboxset.html.
type inboxSetData struct {
	*inboxSet
	Done, Retry, GivenUp, NotPerformed []setAction
}

func (h *handler) inboxSetPage(w http.ResponseWriter, r *http.Request) {
	job, prefix := r.PathValue("job"), r.PathValue("prefix")
	sets, err := h.jobSets(r.Context(), job)
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, "The run history could not be read.", err)
		return
	}
	var found *inboxSet
	for _, s := range sets {
		if s.Prefix == prefix || strings.TrimSuffix(s.Prefix, "/") == strings.TrimSuffix(prefix, "/") {
			found = s
			break
		}
	}
	if found == nil {
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("Inbox job %q has no upload set %q in its ledger or recent runs.", job, prefix), nil)
		return
	}
	data := inboxSetData{inboxSet: found}
	if found.Set != nil {
		for _, a := range found.Set.Actions {
			switch a.Status {
			case "done":
				data.Done = append(data.Done, a)
			case "failed":
				if found.State == stateGaveUp || found.Set.GaveUp {
					data.GivenUp = append(data.GivenUp, a)
				} else {
					data.Retry = append(data.Retry, a)
				}
			default:
				data.NotPerformed = append(data.NotPerformed, a)
			}
		}
	}
	h.render(w, r, http.StatusOK, "inboxset.html", "Upload set "+found.Prefix, "inbox", data)
}
