package jobs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// A repos_from job over releases keeps, under the prefix it owns (its dest
// up to the first {column}), the release each row last resolved and its
// tag's commit, with their validators (fanoutReleasesKey). Given back to
// the GitHub client before the rows run, they let a new process resolve an
// unchanged release with one request answered 304, as a long-running
// `ghsync serve` does from memory.

// fanoutReleasesKey is the records' object under the job's prefix.
const fanoutReleasesKey = ownerStateDir + "/releases.json"

// fanoutReleases are the release records of a repos_from job, by source.
type fanoutReleases struct {
	Version  int                             `json:"version"`
	Job      string                          `json:"job,omitempty"`
	Releases map[string]github.ReleaseRecord `json:"releases"`
}

// releaseRecords keeps a repos_from job's release records; nil when the
// job's source is not a release (it then does nothing).
type releaseRecords struct {
	gh   *github.Client
	b    *store.Bucket
	job  string
	prev map[string]github.ReleaseRecord
	next map[string]github.ReleaseRecord
}

// openReleaseRecords reads the records of a repos_from job whose source
// template is a release; nil, nil for other jobs. A missing or unreadable
// records object only costs the next run the unconditional requests.
func openReleaseRecords(ctx context.Context, env *Env, job string, r *RepoSettings) (*releaseRecords, error) {
	if !strings.Contains(r.Source, "@release:") || !strings.HasPrefix(r.Source, "github:") {
		return nil, nil
	}
	gh, err := env.GitHub(ctx)
	if err != nil {
		return nil, err
	}
	b, err := env.OpenStore(ctx, templatePrefix(r.Dest), store.Options{})
	if err != nil {
		return nil, err
	}
	rr := &releaseRecords{gh: gh, b: b, job: job, prev: map[string]github.ReleaseRecord{}, next: map[string]github.ReleaseRecord{}}
	data, _, err := b.Read(ctx, fanoutReleasesKey)
	if err == nil {
		var st fanoutReleases
		if jsonUnmarshal(data, &st) == nil && st.Releases != nil {
			rr.prev = st.Releases
		}
	} else if !errors.Is(err, store.ErrNotExist) {
		env.Logger.Warn("release records unreadable; releases are resolved in full", "key", fanoutReleasesKey, "error", err.Error())
	}
	return rr, nil
}

// before gives the client the record kept for src (an expanded source).
func (rr *releaseRecords) before(src string) {
	if rr == nil {
		return
	}
	if sp, err := source.ParseSpec(src); err == nil && sp.Release != "" {
		if rec, ok := rr.prev[src]; ok {
			rr.gh.RestoreRelease(sp.Owner, sp.Repo, sp.Release, rec)
		}
	}
}

// after records what the client resolved for src; a failed row keeps its
// previous record.
func (rr *releaseRecords) after(src string, failed bool) {
	if rr == nil {
		return
	}
	sp, err := source.ParseSpec(src)
	if err != nil || sp.Release == "" {
		return
	}
	rec, ok := rr.gh.ReleaseRecord(sp.Owner, sp.Repo, sp.Release)
	if failed {
		rec, ok = rr.prev[src]
	}
	if ok {
		rr.next[src] = rec
	}
}

// close writes the records when they changed (never on a dry run).
func (rr *releaseRecords) close(ctx context.Context, dryRun bool) error {
	if rr == nil {
		return nil
	}
	defer rr.b.Close()
	if dryRun || sameReleases(rr.prev, rr.next) {
		return nil
	}
	st := &fanoutReleases{Version: 1, Job: rr.job, Releases: maps.Clone(rr.next)}
	if err := writeJSON(ctx, rr.b, fanoutReleasesKey, st); err != nil {
		return fmt.Errorf("record the releases: %w", err)
	}
	return nil
}
