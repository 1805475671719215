package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteResult prints a Result for people: the set, its report (the
// document in the job's format) and each action with its status and, for
// dry runs and missing credentials, what would have been sent.
func WriteResult(w io.Writer, r *Result) error {
	var b strings.Builder
	status := "FAILED"
	switch {
	case r.Busy:
		status = "being processed by another run"
		if !r.BusyUntil.IsZero() {
			status += " (claimed until " + r.BusyUntil.UTC().Format(time.RFC3339) + ")"
		}
		status += ": nothing done by this run"
	case r.Skipped:
		status = "unchanged since processed (skipped)"
	case r.Passed:
		status = "passed"
	}
	dry := ""
	if r.DryRun {
		dry = " (dry run: nothing done)"
	}
	fmt.Fprintf(&b, "%s set %s: %d file(s), %s%s\n", r.Job, r.Prefix, len(r.Keys), status, dry)
	if r.Attempt > 1 && !r.Skipped {
		fmt.Fprintf(&b, "  attempt %d: performing only the actions earlier runs did not complete\n", r.Attempt)
	}
	switch {
	case r.GaveUp:
		fmt.Fprintf(&b, "  gave up after %d attempt(s): %s not done; not tried again until the set changes\n",
			r.Attempt, strings.Join(r.FailedActions, ", "))
	case len(r.FailedActions) > 0 && !r.DryRun:
		fmt.Fprintf(&b, "  not done: %s; tried again by the next poll or event\n", strings.Join(r.FailedActions, ", "))
	}
	if r.Report != nil {
		for _, f := range r.Report.Files {
			v := "valid"
			if !f.Valid {
				v = "INVALID"
			}
			fmt.Fprintf(&b, "  %s: %s (profile %s", f.Key, v, f.Profile)
			if f.Rows != nil {
				fmt.Fprintf(&b, ", %d rows", *f.Rows)
			}
			if f.Encoding != "" {
				fmt.Fprintf(&b, ", %s", f.Encoding)
			}
			b.WriteString(")\n")
			for _, e := range f.Errors {
				fmt.Fprintf(&b, "    - %s\n", e)
			}
		}
	}
	for _, a := range r.Actions {
		fmt.Fprintf(&b, "  %-11s %-13s", a.Action, a.Status)
		if a.Target != "" {
			fmt.Fprintf(&b, " %s", a.Target)
		}
		if a.Detail != "" {
			fmt.Fprintf(&b, " — %s", a.Detail)
		}
		if a.Error != "" {
			fmt.Fprintf(&b, " — error: %s", a.Error)
		}
		b.WriteString("\n")
		if a.Payload != nil && (a.Status == StatusDryRun || a.Status == StatusNoCredential) {
			p, err := json.MarshalIndent(a.Payload, "      ", "  ")
			if err == nil {
				fmt.Fprintf(&b, "      would send: %s\n", p)
			}
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "  error: %s\n", e)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// PollLoop calls Poll now and then every cfg.PollInterval() until ctx ends,
// handing each outcome to report (for logs, run history, alerts). A failed
// poll does not stop the loop. It returns ctx's error.
func PollLoop(ctx context.Context, deps Deps, cfg *Config, opts RunOptions, report func(*PollResult, error)) error {
	t := time.NewTicker(cfg.PollInterval())
	defer t.Stop()
	for {
		pr, err := Poll(ctx, deps, cfg, opts)
		report(pr, err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
