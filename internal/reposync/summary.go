package reposync

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// maxListed bounds the path lists kept in a summary (alerts show the first few).
const maxListed = 50

// Summary is what a run did (or, with DryRun, would do). Its JSON form is
// the --json output of `ghsync sync` and `ghsync run`.
type Summary struct {
	Job        string `json:"job,omitempty"`
	Source     string `json:"source"`
	Dest       string `json:"dest"`
	Commit     string `json:"commit"`
	Ref        string `json:"ref,omitempty"`
	New        int    `json:"new"`
	Modified   int    `json:"modified"`
	Deleted    int    `json:"deleted"`
	Unchanged  int    `json:"unchanged"`
	Adopted    int    `json:"adopted"`
	Repaired   int    `json:"repaired"`
	Skipped    int    `json:"skipped"` // source paths left out (Skips has the reasons)
	Skips      Skips  `json:"skips"`
	Unmanaged  int    `json:"unmanaged"`
	Unreadable int    `json:"unreadable,omitempty"` // source files (and folders) that could not be read and were left as they were

	BytesDownloaded   int64          `json:"bytes_downloaded"`
	BytesUploaded     int64          `json:"bytes_uploaded"`
	GitHubRequests    int            `json:"github_requests"`
	GitHubNotModified int            `json:"github_not_modified"`
	StoreRequests     map[string]int `json:"store_requests"`
	DurationMS        int64          `json:"duration_ms"`
	DryRun            bool           `json:"dry_run"`
	UpToDate          bool           `json:"up_to_date"` // the commit did not move; nothing was listed
	Paths             ChangedPaths   `json:"paths"`
	Error             string         `json:"error,omitempty"` // set by callers when the run failed
	started           time.Time

	// Keys are every object key the run wrote or deleted (dry: would),
	// relative to the destination, unbounded: what a CDN invalidation must
	// cover. Adopted objects are not in it. Not part of the JSON form.
	// Recorded only when Options.RecordKeys; nil otherwise.
	Keys       []string `json:"-"`
	recordKeys bool     // Options.RecordKeys
}

// ChangedPaths lists the first changed paths of each kind (at most 50 each).
type ChangedPaths struct {
	New      []string `json:"new,omitempty"`
	Modified []string `json:"modified,omitempty"`
	Deleted  []string `json:"deleted,omitempty"`
	Skipped  []string `json:"skipped,omitempty"`
	// Unreadable names the source files (folders end in "/") that could not
	// be read, with the reason.
	Unreadable []string `json:"unreadable,omitempty"`
}

// SkippedText renders the skipped count for a text summary, always (also
// when it is 0), with the reasons: "0 skipped", "3 skipped (2 symlinks,
// 1 unstorable name)".
func (s *Summary) SkippedText() string {
	out := fmt.Sprintf("%d skipped", s.Skipped)
	var why []string
	for _, r := range []struct {
		n         int
		one, many string
	}{
		{s.Skips.Unstorable, "unstorable name", "unstorable names"},
		{s.Skips.Symlinks, "symlink", "symlinks"},
		{s.Skips.Submodules, "submodule", "submodules"},
	} {
		switch {
		case r.n == 1:
			why = append(why, "1 "+r.one)
		case r.n > 1:
			why = append(why, fmt.Sprintf("%d %s", r.n, r.many))
		}
	}
	if len(why) > 0 {
		out += " (" + strings.Join(why, ", ") + ")"
	}
	return out
}

// Changed reports whether the run changed (or would change) the store.
func (s *Summary) Changed() bool { return s.New+s.Modified+s.Deleted+s.Repaired > 0 }

// addKeys adds keys to s.Keys when the run records them.
func (s *Summary) addKeys(keys []string) {
	if s.recordKeys {
		s.Keys = append(s.Keys, keys...)
	}
}

func addPath(list *[]string, p string) {
	if len(*list) < maxListed {
		*list = append(*list, p)
	}
}

func (s *Summary) sortPaths() {
	sort.Strings(s.Paths.Skipped)
	sort.Strings(s.Paths.New)
	sort.Strings(s.Paths.Modified)
	sort.Strings(s.Paths.Deleted)
}
