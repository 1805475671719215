package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ghsync/ghsync/internal/store"
)

// process checks the set's objects and performs the actions.
func (j *job) process(ctx context.Context, deps *Deps, prefix string, segs map[string]string,
	objs []store.Object, opts RunOptions) (*Result, error) {
	start := deps.Now()
	cfg := j.cfg
	log := deps.Logger.With("job", cfg.Name, "set", prefix)
	res := &Result{Job: cfg.Name, Prefix: prefix, DryRun: opts.DryRun, Keys: []string{}, Actions: []ActionResult{}}
	defer func() { res.Duration = deps.Now().Sub(start) }()
	for _, o := range objs {
		res.Keys = append(res.Keys, o.Key)
	}
	if len(objs) == 0 {
		err := fmt.Errorf("inbox %s: no objects in set %q under %s", cfg.Name, prefix, store.Redact(cfg.Watch))
		res.Errors = append(res.Errors, err.Error())
		return res, err
	}
	res.Fingerprint = objectsFingerprint(objs)
	// prev is the record of an earlier run of this very content that left
	// actions to try again (nil: process in full); hold is this run's claim
	// on the set, freed by the record at the end or, when the run stops
	// before that, by the deferred release.
	prev, hold, stop, err := j.admit(ctx, deps, res, prefix, len(objs), opts)
	if stop || err != nil {
		return res, err
	}
	// While the run holds the set, keeper renews the claim and actx, the
	// context of the checks and actions, ends when the claim is lost.
	actx := ctx
	var keeper *claimKeeper
	if hold != nil {
		keeper = keepClaim(ctx, deps, cfg.Name, prefix, hold)
		actx = keeper.ctx
		defer func() {
			if keeper != nil {
				hold, _ = keeper.finish()
			}
			if hold != nil { // not recorded: free the set for the next run
				if err := deps.Ledger.Release(context.WithoutCancel(ctx), cfg.Name, prefix, hold); err != nil {
					log.Warn("inbox: could not release the set's claim; it expires with its lease", "error", err, "until", hold.Until)
				}
			}
		}()
	}

	sentry := newSentry(cfg.SentryDSN, deps)
	defer sentry.flush()
	fail := func(err error) {
		res.Errors = append(res.Errors, err.Error())
		sentry.capture(err, cfg.Name, prefix)
	}

	rep := &Report{Prefix: prefix, Segments: segs, Files: []FileReport{}}
	rep.Name, res.Actions = j.enrich(actx, deps, rep, res.Actions)

	watch, err := deps.OpenStore(actx, cfg.Watch)
	if err != nil {
		err = fmt.Errorf("inbox %s: open watch: %w", cfg.Name, err)
		fail(err)
		return res, err
	}
	defer watch.Close()
	for _, o := range objs {
		fr, err := CheckFile(actx, openerFor(watch, o.Key), o.Size, o.Key, j.checks)
		if err != nil {
			if lost := keeper.alive(); lost != nil {
				err = lost // the claim was lost during the check: that stopped it
			}
			err = fmt.Errorf("inbox %s: check %s: %w", cfg.Name, o.Key, err)
			fail(err)
			return res, err
		}
		fr.ETag = o.ETag
		rep.Files = append(rep.Files, fr)
	}
	applySetRules(j.checks, rep)
	res.Passed = rep.Passed()
	res.Report = rep
	if prev != nil && prev.Passed != res.Passed {
		// The checks decide otherwise than when the set was recorded (their
		// configuration changed): other actions apply, all of them.
		log.Info("inbox: set checked differently than when recorded: processing it in full", "recorded_passed", prev.Passed)
		prev = nil
	}
	st := newSettlement(prev)
	res.Attempt = st.attempt
	log.Info("inbox: set checked", "files", len(rep.Files), "passed", res.Passed, "attempt", st.attempt)

	add := func(a ActionResult) {
		res.Actions = append(res.Actions, a)
		attrs := []any{"action", a.Action, "status", a.Status}
		if a.Target != "" {
			attrs = append(attrs, "target", a.Target)
		}
		switch a.Status {
		case StatusFailed:
			fail(fmt.Errorf("inbox %s: set %s: %s: %s", cfg.Name, prefix, a.Action, a.Error))
			log.Error("inbox: action failed", append(attrs, "error", a.Error)...)
		case StatusNoCredential, StatusDryRun:
			// exactly what would have been sent, credentials excluded
			log.Info("inbox: action not performed", append(attrs, "detail", a.Detail, "payload", payloadJSON(a.Payload))...)
		default:
			log.Info("inbox: action", append(attrs, "detail", a.Detail)...)
		}
	}
	// perform runs an action unless an earlier run of this content settled it.
	perform := func(kind string, run func() ActionResult) {
		if st.settledBefore(kind) {
			add(ActionResult{Action: kind, Status: StatusSkipped, Target: j.actionTarget(kind, prefix), Detail: detailDoneEarlier})
			return
		}
		if keeper.alive() != nil {
			add(ActionResult{Action: kind, Status: StatusSkipped, Target: j.actionTarget(kind, prefix), Detail: detailClaimLost})
			return
		}
		a := run()
		st.note(kind, a)
		add(a)
	}
	if res.Passed {
		copied := j.copyToFinal(actx, deps, watch, objs, opts, st, add, keeper.alive)
		if st.settledBefore(ActionGitHub) {
			rep.GitHubIssue = prev.Issue // the report still names the issue
		}
		perform(ActionGitHub, func() ActionResult { return j.githubIssue(actx, deps, rep, opts, st.attempt > 1) })
		switch {
		case copied || st.settledBefore(ActionReport):
			perform(ActionReport, func() ActionResult { return j.writeReport(actx, deps, rep, opts) })
		case j.cfg.Final != "":
			st.block(ActionReport)
			add(ActionResult{Action: ActionReport, Status: StatusSkipped, Detail: "not written: the copy to final failed"})
		}
	} else {
		perform(ActionEmail, func() ActionResult { return j.email(actx, deps, rep, opts) })
	}
	doc, err := rep.JSON(j.format)
	if err != nil {
		fail(err)
		return res, err
	}
	res.Document = doc
	perform(ActionCallback, func() ActionResult { return j.callback(actx, deps, doc, opts) })

	res.FailedActions = st.failed
	if keeper != nil {
		var lost error
		hold, lost = keeper.finish()
		keeper = nil
		if lost != nil {
			// Actions may have been left undone: nothing is recorded, and
			// the set is released if it is still ours (the lease ran out
			// unrenewed) for the next run.
			log.Error("inbox: the set's claim was lost: stopped before the next action", "error", lost)
			prior := joinErrors(res.Errors)
			fail(lost)
			return res, errors.Join(prior, lost)
		}
	}
	if !opts.DryRun && deps.Ledger != nil {
		rec := LedgerRecord{Fingerprint: res.Fingerprint, Passed: res.Passed, Files: len(rep.Files), At: deps.Now(),
			Attempts: st.attempt, Done: st.allDone(), Failed: st.failed, Issue: rep.GitHubIssue}
		rec.Complete = len(st.failed) == 0 || st.attempt >= cfg.Attempts()
		res.GaveUp = rec.GaveUp()
		switch {
		case res.GaveUp:
			log.Error("inbox: giving up on the failed actions until the set changes",
				"attempts", st.attempt, "failed", st.failed)
		case len(st.failed) > 0:
			log.Warn("inbox: the failed actions will be tried again by the next run",
				"attempt", st.attempt, "max_attempts", cfg.Attempts(), "failed", st.failed)
		}
		err := deps.Ledger.Put(ctx, cfg.Name, prefix, rec, hold)
		if hold != nil && (err == nil || errors.Is(err, ErrClaimLost)) {
			hold = nil // freed by the record, or no longer ours
		}
		if err != nil {
			fail(err)
		} else {
			res.complete = rec.Complete
		}
	}
	return res, joinErrors(res.Errors)
}

// joinErrors is the run's error from its messages (nil when none).
func joinErrors(msgs []string) error {
	errs := make([]error, len(msgs))
	for i, e := range msgs {
		errs[i] = errors.New(e)
	}
	return errors.Join(errs...)
}

// applySetRules applies the set check's rules: a set of one file whose
// profile expects more files fails that file with "Expected N files, found
// 1"; when that is its only error, no email is sent.
func applySetRules(c *Checks, rep *Report) {
	if !c.set || len(rep.Files) != 1 {
		return
	}
	f := &rep.Files[0]
	for _, r := range c.setRules {
		if f.Profile != r.Profile {
			continue
		}
		f.suppressEmail = len(f.Errors) == 0
		f.Valid = false
		f.Errors = append(f.Errors, fmt.Sprintf("Expected %d files, found 1", r.Files))
		return
	}
}

// payloadJSON renders a payload for a log line as the JSON that would be
// sent (a json.RawMessage stays JSON rather than turning into base64).
func payloadJSON(p any) string {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Sprintf("%+v", p)
	}
	return string(b)
}
