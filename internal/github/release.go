package github

import (
	"context"
	"sync"
	"time"
)

// ReleaseCommitTTL is how long a release's tag commit, once resolved, is
// trusted while the release itself answers 304: within it, resolving an
// unchanged release costs one conditional request (the release, 304, free
// of rate limit) instead of two. A tag moved to another commit without
// the release changing is seen at the latest after this long (or by a new
// process); the commit is then asked for conditionally, which costs
// nothing either when it did not move.
const ReleaseCommitTTL = time.Hour

// releaseMemo remembers, per repository and release selector, the commit
// the release's tag pointed to and the validators it was resolved under.
type releaseMemo struct {
	mu sync.Mutex
	m  map[string]releaseCommit
}

type releaseCommit struct {
	releaseETag string // the release's ETag when the commit was resolved
	tag         string
	sha         string
	commitETag  string
	at          time.Time
}

func (m *releaseMemo) get(key string) (releaseCommit, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[key]
	return e, ok
}

func (m *releaseMemo) put(key string, e releaseCommit) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]releaseCommit{}
	}
	m.m[key] = e
}

// ResolveRelease returns the release with tag (or the latest one for
// "latest" or ""), the commit its tag points to and that commit's
// validator. The release is asked for conditionally; when it answers 304
// and its tag's commit was resolved by this Client under the same release
// validator less than ReleaseCommitTTL ago, that commit is returned without
// another request. Otherwise the tag is resolved, conditionally on the
// commit validator remembered for it.
func (r *RepoClient) ResolveRelease(ctx context.Context, tag string) (rel *Release, sha, commitETag string, err error) {
	rel, etag, notModified, err := r.release(ctx, tag)
	if err != nil {
		return nil, "", "", err
	}
	key := r.String() + "@release:" + tag
	prev, ok := r.c.releases.get(key)
	now := r.c.clock()
	if ok && notModified && prev.releaseETag == etag && prev.tag == rel.TagName && now.Sub(prev.at) < ReleaseCommitTTL {
		return rel, prev.sha, prev.commitETag, nil
	}
	hint := ""
	if ok && prev.tag == rel.TagName {
		hint = prev.commitETag
	}
	sha, commitETag, commitNotModified, err := r.ResolveCommit(ctx, rel.TagName, hint)
	if err != nil {
		return nil, "", "", err
	}
	if commitNotModified {
		sha = prev.sha
	}
	r.c.releases.put(key, releaseCommit{releaseETag: etag, tag: rel.TagName, sha: sha, commitETag: commitETag, at: now})
	return rel, sha, commitETag, nil
}
