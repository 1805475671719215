package github

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// ReleaseCommitTTL is how long a release's tag commit, once resolved, is
// trusted while the release itself answers 304: within it, resolving an
// unchanged release costs one conditional request (the release, 304, free
// of rate limit) instead of two. A tag moved to another commit without
// the release changing is seen at the latest after this long (a record
// restored with RestoreRelease keeps the time it was resolved at); the
// commit is then asked for conditionally, which costs nothing either when
// it did not move.
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
	key, _ := releaseKeys(r.owner, r.repo, tag)
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

// ReleaseRecord is what a Client remembers of a resolved release: enough
// for another process to resolve it again with one conditional request.
// It is JSON, to be kept between runs (a whole-owner job keeps it in its
// state object).
type ReleaseRecord struct {
	// ETag is the release's validator; Release the release as decoded.
	ETag    string   `json:"etag"`
	Release *Release `json:"release"`
	// SHA is the commit the release's tag pointed to, CommitETag its
	// validator, At when it was resolved.
	SHA        string    `json:"sha"`
	CommitETag string    `json:"commit_etag,omitempty"`
	At         time.Time `json:"at"`
}

// releaseKeys returns the memo and ETag-cache keys of owner/repo's release
// selector tag, as ResolveRelease uses them.
func releaseKeys(owner, repo, tag string) (memo, cache string) {
	path := "releases/latest"
	if tag != "" && tag != "latest" {
		path = "releases/tags/" + escapeRef(tag)
	}
	return owner + "/" + repo + "@release:" + tag, "GET " + owner + "/" + repo + "/" + path
}

// ReleaseRecord returns what the Client remembers of owner/repo's release
// tag ("latest" or a tag), once ResolveRelease resolved it.
func (c *Client) ReleaseRecord(owner, repo, tag string) (ReleaseRecord, bool) {
	mk, ck := releaseKeys(owner, repo, tag)
	m, ok := c.releases.get(mk)
	if !ok {
		return ReleaseRecord{}, false
	}
	e, ok := c.etags.get(ck)
	if !ok || e.etag != m.releaseETag {
		return ReleaseRecord{}, false
	}
	var rel Release
	if err := json.Unmarshal(e.body, &rel); err != nil {
		return ReleaseRecord{}, false
	}
	return ReleaseRecord{ETag: m.releaseETag, Release: &rel, SHA: m.sha, CommitETag: m.commitETag, At: m.at}, true
}

// RestoreRelease gives the Client a record an earlier process kept, so
// that ResolveRelease asks for the release conditionally and, while it
// answers 304 and the record is younger than ReleaseCommitTTL, takes the
// commit from the record.
func (c *Client) RestoreRelease(owner, repo, tag string, rec ReleaseRecord) {
	if rec.ETag == "" || rec.Release == nil || rec.SHA == "" {
		return
	}
	body, err := json.Marshal(rec.Release)
	if err != nil {
		return
	}
	mk, ck := releaseKeys(owner, repo, tag)
	c.etags.put(ck, rec.ETag, body)
	c.releases.put(mk, releaseCommit{releaseETag: rec.ETag, tag: rec.Release.TagName, sha: rec.SHA, commitETag: rec.CommitETag, at: rec.At})
}
