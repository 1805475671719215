package jobs

import (
	"errors"
	"fmt"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/store"
)

// area is one store prefix written by a job (or by the webhook endpoint),
// located for comparison.
type area struct {
	job     string // the job's name; "" for the webhook endpoint's stores (never in conflict with each other)
	field   string // the config field that names it ("jobs[1].dest")
	url     string
	loc     store.Location
	manages bool
	// deletesUnknown: the job deletes objects it did not write (delete: all).
	deletesUnknown bool
}

// conflicts reports whether a and b, of different jobs, cannot coexist:
// they overlap, and either both manage their prefix or one deletes what
// it did not write.
func (a area) conflicts(b area) bool {
	if a.job == b.job || !a.loc.Overlaps(b.loc) {
		return false
	}
	return a.manages && b.manages || a.deletesUnknown || b.deletesUnknown
}

// checkAreas refuses a configuration in which two jobs' managed prefixes
// (StoreUse.Manages: repo sync's destinations) are the same or nested:
// each run would delete what the other wrote (job a → site/: 3 new; job
// b → site/: 8 new, 3 deleted; job a: 3 new, 8 deleted; …, every run
// exiting 0). A prefix under which a job deletes what it did not write
// (StoreUse.DeletesUnknown: delete: all) may not overlap any other job's
// store, nor the webhook archive or logs. Other overlaps are accepted:
// a repo job with delete: managed leaves alone the objects it did not
// write, and stores that nothing manages (status snapshots, an inbox's
// watch and final areas, the webhook archive) write keys of their own and
// delete nothing another job wrote. Prefixes are compared after
// normalisation (store.Locate) on "/" boundaries, so site/ and site2/ do
// not overlap. Every problem is a *config.Error at the later job's key
// naming the earlier one's position.
func (r *Registry) checkAreas(cfg *config.Config) error {
	var areas []area
	add := func(a area) {
		loc, err := store.Locate(a.url)
		if err != nil {
			return // not a store URL this build opens: reported when the job runs
		}
		a.loc = loc
		areas = append(areas, a)
	}
	for i, j := range cfg.Jobs {
		k, ok := r.byName[j.Kind]
		if !ok || j.Settings == nil {
			continue
		}
		for _, s := range k.Needs(j).Stores {
			if s.Access != AccessReadWrite || s.URL == "" {
				continue
			}
			field := fmt.Sprintf("jobs[%d]", i)
			if s.Key != "" {
				field += "." + s.Key
			}
			add(area{job: j.Name, field: field, url: s.URL, manages: s.Manages, deletesUnknown: s.DeletesUnknown})
		}
	}
	if d := cfg.Webhooks.Archive.Dest; d != "" {
		add(area{field: "webhooks.archive.dest", url: d})
	}
	if d := cfg.Webhooks.Logs.Dest; d != "" && d != cfg.Webhooks.Archive.Dest {
		add(area{field: "webhooks.logs.dest", url: d})
	}
	var errs []error
	for i, b := range areas {
		for _, a := range areas[:i] {
			if !a.conflicts(b) {
				continue
			}
			errs = append(errs, cfg.FieldError(b.field, "%s (%s) overlaps %s (%s, %s): %s",
				describeArea(b), store.Redact(b.url), describeArea(a), store.Redact(a.url), position(cfg, a.field), overlapWhy(a, b)))
			break
		}
	}
	return errors.Join(errs...)
}

// describeArea names a: `the destination of job "site"` or the config key.
func describeArea(a area) string {
	if a.job != "" {
		return fmt.Sprintf("the destination of job %q", a.job)
	}
	return a.field
}

// position renders where field was written: "ghsync.yaml:12:11".
func position(cfg *config.Config, field string) string {
	p := cfg.Pos(field)
	s := cfg.File
	if p.Line > 0 {
		s += fmt.Sprintf(":%d:%d", p.Line, p.Column)
	}
	return s
}

// overlapWhy says how a and b overlap, what would go wrong and what to do.
func overlapWhy(a, b area) string {
	rel := "both are the same prefix"
	switch {
	case len(a.loc.Prefix) < len(b.loc.Prefix):
		rel = "this destination is inside it"
	case len(a.loc.Prefix) > len(b.loc.Prefix):
		rel = "it is inside this destination"
	}
	why := "both jobs delete the objects they manage under their destinations, so each run would delete what the other wrote"
	if !a.manages || !b.manages {
		owner := a
		if !a.deletesUnknown {
			owner = b
		}
		why = fmt.Sprintf("job %q deletes every object under its destination that its source does not have (delete: all), so its runs would delete what the other writes", owner.job)
	}
	return rel + "; " + why + "; give each a prefix of its own that is not inside another's (site/ and site2/ are separate, site/ and site/docs/ are not)"
}
