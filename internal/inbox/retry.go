package inbox

import (
	"slices"
	"strings"

	"github.com/ghsync/ghsync/internal/store"
)

// detailDoneEarlier is the Detail of an action a retry does not repeat.
const detailDoneEarlier = "already done by an earlier run of this set"

// detailClaimLost says why an action was not started: the run's claim on
// the set was lost (see claimKeeper).
const detailClaimLost = "not performed: this run's claim on the set was lost"

// settlement tracks, during one run, which actions are settled (performed,
// or deliberately not) and which failed, starting from the ledger record of
// an earlier run of the same content whose actions were not all settled.
type settlement struct {
	// earlier are the actions settled by earlier runs: not performed again.
	earlier map[string]bool
	// prevDone keeps the earlier runs' order for the record.
	prevDone []string
	// done and failed are this run's outcomes, by ActionKey.
	done, failed []string
	// attempt counts the runs of this content, this one included.
	attempt int
}

// newSettlement starts a run: from scratch (prev nil: the first run of this
// content, or a run by hand) or as a retry of prev.
func newSettlement(prev *LedgerRecord) *settlement {
	s := &settlement{earlier: map[string]bool{}, attempt: 1}
	if prev != nil {
		s.attempt = max(prev.Attempts, 1) + 1
		s.prevDone = prev.Done
		for _, k := range prev.Done {
			s.earlier[k] = true
		}
	}
	return s
}

// settledBefore reports whether an earlier run settled the action key.
func (s *settlement) settledBefore(key string) bool { return s.earlier[key] }

// note records the outcome of the action key: failed, or settled by any
// other status (done, no-credential, skipped, dry-run).
func (s *settlement) note(key string, a ActionResult) {
	if a.Status == StatusFailed {
		s.failed = append(s.failed, key)
		return
	}
	s.done = append(s.done, key)
}

// block records that the action key could not run because another failed:
// it is tried again with it.
func (s *settlement) block(key string) { s.failed = append(s.failed, key) }

// allDone returns the actions settled so far, earlier runs' first.
func (s *settlement) allDone() []string {
	return append(slices.Clone(s.prevDone), s.done...)
}

// actionTarget is the Target an action of kind shows for the set at prefix
// (credentials removed), for actions a retry does not repeat.
func (j *job) actionTarget(kind, prefix string) string {
	c := j.cfg
	switch {
	case kind == ActionGitHub && c.GitHub != nil:
		return c.GitHub.Repo
	case kind == ActionReport && c.Final != "":
		return store.Redact(c.Final) + " " + prefix + "report.json"
	case kind == ActionEmail && c.Email != nil:
		return strings.Join(c.Email.To, ", ")
	case kind == ActionCallback && c.Callback != nil && c.Callback.URL != "":
		return redactURLString(c.Callback.URL)
	}
	return ""
}
