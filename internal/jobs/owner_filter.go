package jobs

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/github"
)

// OwnerFilter chooses which repositories of an owner a whole-owner job
// (repo: source github:OWNER/*; statuses: repos OWNER/*) covers. The zero
// value keeps every repository the credentials can see.
type OwnerFilter struct {
	// Include are name globs (path.Match, case-insensitive); empty keeps all.
	Include []string
	// Exclude are name globs; a match leaves the repository out.
	Exclude []string
	// Topics keeps repositories carrying at least one of these topics
	// (exact match); empty keeps all.
	Topics []string
	// Visibility is "public", "private" or "internal"; "" keeps all.
	Visibility string
	// Archived, when set, keeps only archived (true) or only unarchived
	// (false) repositories; nil keeps both.
	Archived *bool
}

// Visibilities are the values of a whole-owner job's visibility setting.
var Visibilities = []string{"public", "private", "internal"}

// check validates f's settings under the given keys.
func (f OwnerFilter) check(c *config.Checker, includeKey, excludeKey, topicsKey, visibilityKey string) {
	for key, globs := range map[string][]string{includeKey: f.Include, excludeKey: f.Exclude} {
		for i, g := range globs {
			if _, err := path.Match(g, ""); err != nil || strings.TrimSpace(g) == "" || strings.Contains(g, "/") {
				c.Errorf(fmt.Sprintf("%s[%d]", key, i), "%q is not a repository name glob (use *, ? and [a-z] over names, e.g. site-*)", config.Truncate(g, 60))
			}
		}
	}
	for i, t := range f.Topics {
		if strings.TrimSpace(t) == "" {
			c.Errorf(fmt.Sprintf("%s[%d]", topicsKey, i), "must not be empty")
		}
	}
	if f.Visibility != "" {
		c.OneOf(visibilityKey, f.Visibility, Visibilities...)
	}
}

// set reports whether any filter setting is given.
func (f OwnerFilter) set() bool {
	return len(f.Include)+len(f.Exclude)+len(f.Topics) > 0 || f.Visibility != "" || f.Archived != nil
}

// Keep reports whether r passes the filter.
func (f OwnerFilter) Keep(r github.OwnerRepo) bool {
	name := strings.ToLower(r.Name)
	match := func(globs []string) bool {
		for _, g := range globs {
			if ok, _ := path.Match(strings.ToLower(g), name); ok {
				return true
			}
		}
		return false
	}
	if len(f.Include) > 0 && !match(f.Include) || match(f.Exclude) {
		return false
	}
	if len(f.Topics) > 0 && !slices.ContainsFunc(f.Topics, func(t string) bool { return slices.Contains(r.Topics, t) }) {
		return false
	}
	vis := r.Visibility
	if vis == "" { // older GitHub Enterprise servers only say private or not
		vis = "public"
		if r.Private {
			vis = "private"
		}
	}
	if f.Visibility != "" && !strings.EqualFold(f.Visibility, vis) {
		return false
	}
	return f.Archived == nil || *f.Archived == r.Archived
}

// ownerStateDir is the folder, under a whole-owner job's destination, of
// the job's own state; a repository of that name is never mirrored into it.
const ownerStateDir = ".ghsync"

// repoDest returns the destination of repository name under a whole-owner
// job's dest: DEST/{name}/ (inside the ?prefix= parameter when the URL
// carries its prefix there).
func repoDest(dest, name string) string {
	base, query, hasQuery := strings.Cut(dest, "?")
	if hasQuery {
		if v, err := url.ParseQuery(query); err == nil && v.Get("prefix") != "" {
			v.Set("prefix", strings.TrimSuffix(v.Get("prefix"), "/")+"/"+name+"/")
			return base + "?" + v.Encode()
		}
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	base += name + "/"
	if hasQuery {
		return base + "?" + query
	}
	return base
}
