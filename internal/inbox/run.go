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
	fileFP := make([]FileReport, len(objs))
	for i, o := range objs {
		fileFP[i] = FileReport{Key: o.Key, ETag: o.ETag}
	}
	res.Fingerprint = Fingerprint(fileFP)
	if opts.SkipUnchanged && deps.Ledger != nil {
		fp, found, err := deps.Ledger.Get(ctx, cfg.Name, prefix)
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
			return res, err
		}
		if found && fp == res.Fingerprint {
			res.Skipped = true
			log.Debug("inbox: set unchanged since processed", "files", len(objs))
			return res, nil
		}
	}

	sentry := newSentry(cfg.SentryDSN, deps)
	defer sentry.flush()
	fail := func(err error) {
		res.Errors = append(res.Errors, err.Error())
		sentry.capture(err, cfg.Name, prefix)
	}

	rep := &Report{Prefix: prefix, Segments: segs, Files: []FileReport{}}
	rep.Name, res.Actions = j.enrich(ctx, deps, rep, res.Actions)

	watch, err := deps.OpenStore(ctx, cfg.Watch)
	if err != nil {
		err = fmt.Errorf("inbox %s: open watch: %w", cfg.Name, err)
		fail(err)
		return res, err
	}
	defer watch.Close()
	for _, o := range objs {
		fr, err := CheckFile(ctx, openerFor(watch, o.Key), o.Size, o.Key, j.checks)
		if err != nil {
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
	log.Info("inbox: set checked", "files", len(rep.Files), "passed", res.Passed)

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
	if res.Passed {
		copied := j.copyToFinal(ctx, deps, watch, objs, opts, add)
		add(j.githubIssue(ctx, deps, rep, opts))
		if copied {
			add(j.writeReport(ctx, deps, rep, opts))
		} else if j.cfg.Final != "" {
			add(ActionResult{Action: ActionReport, Status: StatusSkipped, Detail: "not written: the copy to final failed"})
		}
	} else {
		add(j.email(ctx, deps, rep, opts))
	}
	doc, err := rep.JSON(j.format)
	if err != nil {
		fail(err)
		return res, err
	}
	res.Document = doc
	add(j.callback(ctx, deps, doc, opts))

	if !opts.DryRun && deps.Ledger != nil {
		rec := LedgerRecord{Fingerprint: res.Fingerprint, Passed: res.Passed, Files: len(rep.Files), At: deps.Now()}
		if err := deps.Ledger.Put(ctx, cfg.Name, prefix, rec); err != nil {
			fail(err)
		}
	}
	if len(res.Errors) > 0 {
		errs := make([]error, len(res.Errors))
		for i, e := range res.Errors {
			errs[i] = errors.New(e)
		}
		return res, errors.Join(errs...)
	}
	return res, nil
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
