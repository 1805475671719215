package inbox

import (
	"encoding/json"
	"time"
)

// Action statuses.
const (
	// StatusDone: performed.
	StatusDone = "done"
	// StatusDryRun: --dry-run; Payload is what would have been sent.
	StatusDryRun = "dry-run"
	// StatusNoCredential: not performed because its credential (GitHub
	// token, callback token) is missing; Payload is what would have been sent.
	StatusNoCredential = "no-credential"
	// StatusSkipped: not applicable (Detail says why).
	StatusSkipped = "skipped"
	// StatusFailed: attempted and failed (Error says why).
	StatusFailed = "failed"
)

// Action kinds.
const (
	ActionCopy     = "copy"
	ActionGitHub   = "github"
	ActionReport   = "report.json"
	ActionEmail    = "email"
	ActionCallback = "callback"
	ActionEnrich   = "enrich"
)

// ActionResult is one action of a processed set.
type ActionResult struct {
	Action string `json:"action"`
	Status string `json:"status"`
	// Target says where: a store URL and key, owner/repo, recipients, a URL
	// (credentials removed).
	Target string `json:"target,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Payload is what was (or would have been) sent, without credentials.
	Payload any    `json:"payload,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Result is the outcome of processing one upload set. It encodes to JSON
// for --json summaries and the UI.
type Result struct {
	Job    string `json:"job"`
	Prefix string `json:"prefix"`
	// Keys are the set's object keys, relative to the watch prefix.
	Keys        []string `json:"keys"`
	Fingerprint string   `json:"fingerprint,omitempty"`
	// Skipped is true when the set was already processed with the same
	// keys and ETags and nothing is left to try (nothing was done).
	Skipped bool `json:"skipped,omitempty"`
	// Busy is true when another run (a concurrent event, a serve replica)
	// had claimed the set: this run did nothing with it, and the other
	// run's record tells the outcome. BusyUntil is when that claim expires
	// (a crashed run's set is taken up again after it).
	Busy      bool      `json:"busy,omitempty"`
	BusyUntil time.Time `json:"busy_until,omitzero"`
	// Attempt counts the runs that processed this content of the set, this
	// one included (on a skipped set: the runs recorded). Above 1, the run
	// performed only the actions earlier runs had not settled; the others
	// show as skipped, "already done by an earlier run".
	Attempt int `json:"attempt,omitempty"`
	// FailedActions are the actions that failed, or could not run because
	// another failed, by ActionKey ("callback", "copy:KEY", …). Unless
	// GaveUp, a later run (poll, event) tries them again.
	FailedActions []string `json:"failed_actions,omitempty"`
	// GaveUp is true when FailedActions will not be tried again until the
	// set changes: the job's max_attempts runs have tried them. A skipped
	// set that was given up on says so too.
	GaveUp bool `json:"gave_up,omitempty"`
	DryRun bool `json:"dry_run,omitempty"`
	Passed bool `json:"passed"`
	// Report is the set's report; Document the same in the job's format
	// (what report.json and the callback carry).
	Report   *Report         `json:"report,omitempty"`
	Document json.RawMessage `json:"document,omitempty"`
	Actions  []ActionResult  `json:"actions"`
	// Errors lists what went wrong (failed actions, unreadable files).
	Errors   []string      `json:"errors,omitempty"`
	Duration time.Duration `json:"duration_ns"`

	// complete: the ledger holds this content complete (found so, or
	// recorded so by this run), so a poll's index may say so.
	complete bool
	// busyOther: Busy, and the other run acts on other content of the set
	// than this run listed (it listed before a file arrived, or after):
	// this content still needs a run.
	busyOther bool
}

// Failed reports whether any action or read failed.
func (r *Result) Failed() bool { return len(r.Errors) > 0 }

// PollResult is the outcome of one Poll.
type PollResult struct {
	Job string `json:"job"`
	// Sets is how many upload sets the watch prefix holds.
	Sets int `json:"sets"`
	// Unchanged counts sets skipped because already processed as they are.
	Unchanged int `json:"unchanged"`
	// GaveUp counts the unchanged sets whose failed actions were given up
	// on (after max_attempts runs); GaveUpSets are their prefixes.
	GaveUp     int       `json:"gave_up,omitempty"`
	GaveUpSets []string  `json:"gave_up_sets,omitempty"`
	Processed  []*Result `json:"processed"`
	// Busy counts the sets another run had claimed (nothing done with them
	// here); BusySets are their prefixes.
	Busy     int      `json:"busy,omitempty"`
	BusySets []string `json:"busy_sets,omitempty"`
	// Ignored counts objects whose keys do not fit the key pattern.
	Ignored int `json:"ignored"`
}

// EventObject is one object named by a storage event (S3 ObjectCreated),
// key already URL-decoded.
type EventObject struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

// EventResult is the outcome of ProcessEvent.
type EventResult struct {
	Job     string    `json:"job"`
	Results []*Result `json:"results"`
	// Ignored are the event's objects outside the watch prefix or not
	// fitting the key pattern.
	Ignored []EventObject `json:"ignored,omitempty"`
}

// RunOptions tune one processing run.
type RunOptions struct {
	// DryRun performs no action: the result lists the report and the
	// actions that would have been taken.
	DryRun bool
	// SkipUnchanged consults the ledger: a set whose keys and ETags match
	// a complete record is skipped, one that matches a record with actions
	// left to try performs only those (Poll and ProcessEvent set it; a run
	// --key by hand does not).
	SkipUnchanged bool
}
