package cdn

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/ghsync/ghsync/internal/store"
)

// Open builds the targets for the configured URLs. A target that cannot be
// built (bad URL, missing Cloudflare settings, AWS configuration that does
// not load) is returned as one whose every call fails with that error, so
// that the run still records its paths as owed and says why.
func Open(ctx context.Context, urls []string, s Settings) []Target {
	var out []Target
	for _, raw := range urls {
		t, err := open(ctx, raw, s)
		if err != nil {
			t = broken{url: raw, err: err}
		}
		out = append(out, t)
	}
	return out
}

func open(ctx context.Context, raw string, s Settings) (Target, error) {
	scheme, id, q, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	if scheme == "cloudflare" {
		if s.TokenErr != nil {
			return nil, fmt.Errorf("%s: cdn.token: %w", raw, s.TokenErr)
		}
		if s.BaseURL == "" || s.Token == "" {
			return nil, fmt.Errorf("%s needs cdn.base_url and cdn.token (a Cloudflare API token with Cache Purge permission)", raw)
		}
		return NewCloudflare(id, q.Get("endpoint"), s.BaseURL, s.Token, &http.Client{}), nil
	}
	c, err := newCloudFrontClient(ctx, q)
	if err != nil {
		return nil, err
	}
	return NewCloudFront(id, c), nil
}

// broken is a target that could not be built: every call fails with err.
type broken struct {
	url string
	err error
}

func (b broken) URL() string {
	if scheme, id, _, err := ParseURL(b.url); err == nil {
		return scheme + "://" + id
	}
	return b.url
}
func (b broken) Limits() Limits {
	return Limits{Batch: cloudflareBatch, MaxWildcards: cloudflareMaxWildcards}
}
func (b broken) Invalidate(context.Context, []string) (string, error) {
	return "", b.err
}

// Request is one run's invalidation.
type Request struct {
	Targets  []Target
	Settings Settings
	// Keys are the object keys the run wrote or deleted, relative to the
	// destination.
	Keys []string
	// Bucket is the destination; OwedKey is the owed record's key in it.
	Bucket  *store.Bucket
	OwedKey string
	// DryRun plans and reports without calling a CDN or writing the record.
	DryRun bool
}

// Report is what a run invalidated (or, dry, would), per target.
type Report struct {
	DryRun  bool           `json:"dry_run,omitempty"`
	Targets []TargetReport `json:"targets"`
}

// TargetReport is one target's part of a Report.
type TargetReport struct {
	URL string `json:"url"`
	// Paths are the paths sent (or to send), after the wildcard fallback.
	Paths []string `json:"paths"`
	// Changed is the count of exact paths planned before the fallback
	// (including those owed by earlier runs).
	Changed int `json:"changed"`
	// Wildcard is true when the fallback replaced exact paths.
	Wildcard bool `json:"wildcard,omitempty"`
	// Requests are the CDN's ids of the calls that succeeded.
	Requests []string `json:"requests,omitempty"`
	// Owed are the paths still owed after this run (retried by the next).
	Owed  []string `json:"owed,omitempty"`
	Error string   `json:"error,omitempty"`
}

// Failed reports whether any target still owes paths.
func (r *Report) Failed() bool {
	return r != nil && slices.ContainsFunc(r.Targets, func(t TargetReport) bool { return len(t.Owed) > 0 })
}

// Run invalidates the paths of req.Keys plus those owed by earlier runs on
// every target, and records what is still owed. A target with nothing to
// invalidate is not called; with no keys and nothing owed no CDN is called
// and nothing is written (the owed record is read: one small GET). The
// error lists the targets that failed; their paths are owed, not lost.
func Run(ctx context.Context, req Request) (*Report, error) {
	var errs []error
	rec, readErr := readOwed(ctx, req.Bucket, req.OwedKey)
	if readErr != nil { // still invalidate this run's paths; what fails cannot be recorded
		errs = append(errs, readErr)
		rec = &owed{Paths: map[string][]string{}}
	}
	fresh := Paths(req.Keys, req.Settings.PathPrefix)
	rep := &Report{DryRun: req.DryRun}
	next := map[string][]string{}
	for _, t := range req.Targets {
		want := union(fresh, rec.Paths[t.URL()])
		if len(want) == 0 {
			continue
		}
		tr, err := runTarget(ctx, t, want, req)
		rep.Targets = append(rep.Targets, tr)
		if len(tr.Owed) > 0 {
			next[t.URL()] = tr.Owed
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if req.DryRun || len(rep.Targets) == 0 && len(errs) == 0 {
		if len(rep.Targets) == 0 {
			rep = nil
		}
		return rep, errors.Join(errs...)
	}
	for url, paths := range rec.Paths { // owed to targets no longer configured: kept, not dropped silently
		if !slices.ContainsFunc(req.Targets, func(t Target) bool { return t.URL() == url }) {
			next[url] = paths
		}
	}
	if readErr == nil { // an unreadable record is not overwritten
		if err := rec.write(ctx, req.Bucket, req.OwedKey, next); err != nil {
			errs = append(errs, fmt.Errorf("%w (the paths above are not recorded as owed: invalidate them by hand)", err))
		}
	}
	if len(errs) > 0 {
		return rep, fmt.Errorf("CDN invalidation failed (the objects are synced; the next run retries the owed paths): %w", errors.Join(errs...))
	}
	return rep, nil
}

// runTarget plans, batches and applies one target's paths.
func runTarget(ctx context.Context, t Target, want []string, req Request) (TargetReport, error) {
	lim := t.Limits()
	above := req.Settings.WildcardAbove
	if above <= 0 {
		above = DefaultWildcardAbove
	}
	if lim.MaxExact > 0 {
		above = min(above, lim.MaxExact)
	}
	exact, _ := split(want)
	send := Collapse(want, req.Settings.PathPrefix, above, lim.MaxWildcards)
	tr := TargetReport{URL: t.URL(), Paths: send, Changed: len(exact), Wildcard: !slices.Equal(send, want)}
	if req.DryRun {
		return tr, nil
	}
	batches := Batch(send, lim.Batch)
	for i, b := range batches {
		id, err := t.Invalidate(ctx, b)
		if err != nil {
			for _, rest := range batches[i:] {
				tr.Owed = append(tr.Owed, rest...)
			}
			tr.Error = err.Error()
			return tr, fmt.Errorf("%s: %d of %d paths owed: %w", t.URL(), len(tr.Owed), len(send), err)
		}
		if id != "" {
			tr.Requests = append(tr.Requests, id)
		}
	}
	return tr, nil
}

// union returns the sorted union of two path lists.
func union(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Text summarises a report in one line per target ("cloudfront://E1: 3
// paths invalidated (I2J…)"); with dry set, lists the paths.
func (r *Report) Text() string {
	var b strings.Builder
	for _, t := range r.Targets {
		kind := "paths"
		if t.Wildcard {
			kind = fmt.Sprintf("paths (wildcard fallback for %d changed)", t.Changed)
		}
		switch {
		case r.DryRun:
			fmt.Fprintf(&b, "would invalidate on %s: %d %s\n", t.URL, len(t.Paths), kind)
			for _, p := range t.Paths {
				fmt.Fprintf(&b, "  * %s\n", p)
			}
		case t.Error != "":
			fmt.Fprintf(&b, "invalidation FAILED on %s: %s\n  still owed (retried by the next run): %d paths: %s\n",
				t.URL, t.Error, len(t.Owed), abbrev(t.Owed, 10))
		default:
			fmt.Fprintf(&b, "invalidated on %s: %d %s", t.URL, len(t.Paths), kind)
			if len(t.Requests) > 0 {
				fmt.Fprintf(&b, " (%s)", abbrev(t.Requests, 3))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func abbrev(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:n], ", ") + fmt.Sprintf(" … and %d more", len(list)-n)
}
