package github

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	gogithub "github.com/google/go-github/v88/github"
)

// RepoClient performs the operations repo sync needs on one repository.
// It is safe for concurrent use.
type RepoClient struct {
	c           *Client
	owner, repo string
	hc          *http.Client
}

// TreeEntry is one entry of a git tree listing.
type TreeEntry struct {
	Path string `json:"path"`
	// Mode is git's octal mode string: "100644", "100755", "120000",
	// "160000" or "040000".
	Mode string `json:"mode"`
	// Type is "blob", "tree" or "commit" (submodule).
	Type string `json:"type"`
	SHA  string `json:"sha"`
	// Size is the blob size in bytes; zero for trees and submodules.
	Size int64 `json:"size"`
}

// Release is the part of a GitHub release repo sync uses.
type Release struct {
	ID              int64   `json:"id"`
	TagName         string  `json:"tag_name"`
	TargetCommitish string  `json:"target_commitish"`
	Name            string  `json:"name"`
	Draft           bool    `json:"draft"`
	Prerelease      bool    `json:"prerelease"`
	Assets          []Asset `json:"assets"`
}

// Asset is one file attached to a release.
type Asset struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
}

// For returns a client for owner/repo. With a GitHub App it finds (once per
// owner) the installation covering the repository, so a repository the App
// cannot see fails here with ErrNotFound.
func (c *Client) For(ctx context.Context, owner, repo string) (*RepoClient, error) {
	if owner == "" || repo == "" || strings.Contains(owner, "/") || strings.Contains(repo, "/") {
		return nil, fmt.Errorf("github repository %q/%q: want owner and name", owner, repo)
	}
	hc, err := c.ownerClient(ctx, owner, repo)
	if err != nil {
		return nil, fmt.Errorf("github %s/%s: %w", owner, repo, err)
	}
	return &RepoClient{c: c, owner: owner, repo: repo, hc: hc}, nil
}

// String returns "owner/repo".
func (r *RepoClient) String() string { return r.owner + "/" + r.repo }

// HTTPClient returns the authenticated client used for this repository.
func (r *RepoClient) HTTPClient() *http.Client { return r.hc }

// REST returns a go-github client sharing this repository's credentials and
// transport chain.
func (r *RepoClient) REST() (*gogithub.Client, error) { return r.c.rest(r.hc) }

// ResolveCommit resolves ref ("" means HEAD, the default branch) to a commit
// SHA. When etag is not empty it is sent as If-None-Match; a 304 returns
// notModified=true with an empty sha (the caller keeps its recorded one) and
// costs no rate limit. newETag is the validator to send next time.
func (r *RepoClient) ResolveCommit(ctx context.Context, ref, etag string) (sha, newETag string, notModified bool, err error) {
	if ref == "" {
		ref = "HEAD"
	}
	hdr := http.Header{"Accept": {"application/vnd.github.sha"}}
	if etag != "" {
		hdr.Set("If-None-Match", etag)
	}
	resp, err := r.get(ctx, "GET /repos/{owner}/{repo}/commits/{ref}", "commits/"+escapeRef(ref), hdr)
	if err != nil {
		return "", "", false, fmt.Errorf("resolve %s@%s: %w", r, ref, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		newETag = resp.Header.Get("ETag")
		if newETag == "" {
			newETag = etag
		}
		return "", newETag, true, nil
	case http.StatusOK:
	case http.StatusUnprocessableEntity:
		return "", "", false, fmt.Errorf("resolve %s@%s: %w", r, ref, r.statusError(resp, fmt.Sprintf("ref %q in %s", ref, r)))
	default:
		return "", "", false, fmt.Errorf("resolve %s@%s: %w", r, ref, r.statusError(resp, fmt.Sprintf("repository %s (or ref %q)", r, ref)))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if err != nil {
		return "", "", false, fmt.Errorf("resolve %s@%s: read: %w", r, ref, err)
	}
	sha = strings.TrimSpace(string(body))
	if !isHexSHA(sha) {
		return "", "", false, fmt.Errorf("resolve %s@%s: response is not a commit SHA (%d bytes)", r, ref, len(body))
	}
	return sha, resp.Header.Get("ETag"), false, nil
}

// Tree lists the tree sha recursively. truncated reports that GitHub cut
// the listing short (over 100,000 entries or 7 MB); the caller must then
// list subtrees itself or use another strategy.
func (r *RepoClient) Tree(ctx context.Context, sha string) (entries []TreeEntry, truncated bool, err error) {
	resp, err := r.get(ctx, "GET /repos/{owner}/{repo}/git/trees/{tree_sha}", "git/trees/"+url.PathEscape(sha)+"?recursive=1", nil)
	if err != nil {
		return nil, false, fmt.Errorf("list tree %s of %s: %w", sha, r, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, false, fmt.Errorf("list tree %s of %s: %w", sha, r, r.statusError(resp, fmt.Sprintf("tree %s in %s", sha, r)))
	}
	var t struct {
		Tree      []TreeEntry `json:"tree"`
		Truncated bool        `json:"truncated"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&t); err != nil {
		return nil, false, fmt.Errorf("list tree %s of %s: decode: %w", sha, r, err)
	}
	return t.Tree, t.Truncated, nil
}

// Blob streams the raw content of blob sha. The caller must close it.
func (r *RepoClient) Blob(ctx context.Context, sha string) (io.ReadCloser, error) {
	hdr := http.Header{"Accept": {"application/vnd.github.raw+json"}}
	resp, err := r.get(ctx, "GET /repos/{owner}/{repo}/git/blobs/{file_sha}", "git/blobs/"+url.PathEscape(sha), hdr)
	if err != nil {
		return nil, fmt.Errorf("read blob %s of %s: %w", sha, r, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read blob %s of %s: %w", sha, r, r.statusError(resp, fmt.Sprintf("blob %s in %s", sha, r)))
	}
	return resp.Body, nil
}

// Archive streams a "tarball" or "zipball" of ref ("" means HEAD). GitHub
// answers with a redirect to a download host; the redirect is followed
// without sending credentials there. The caller must close the body.
func (r *RepoClient) Archive(ctx context.Context, format, ref string) (io.ReadCloser, error) {
	if format != "tarball" && format != "zipball" {
		return nil, fmt.Errorf("archive %s: format %q: want tarball or zipball", r, format)
	}
	if ref == "" {
		ref = "HEAD"
	}
	resp, err := r.get(ctx, "GET /repos/{owner}/{repo}/"+format+"/{ref}", format+"/"+escapeRef(ref), nil)
	if err != nil {
		return nil, fmt.Errorf("download %s of %s@%s: %w", format, r, ref, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download %s of %s@%s: %w", format, r, ref, r.statusError(resp, fmt.Sprintf("repository %s (or ref %q)", r, ref)))
	}
	return resp.Body, nil
}

// Release returns the release with tag, or the latest published release
// when tag is "latest" or "". Repeated calls on the same Client are
// conditional (If-None-Match), so an unchanged release costs no rate limit.
func (r *RepoClient) Release(ctx context.Context, tag string) (*Release, error) {
	rel, _, _, err := r.release(ctx, tag)
	return rel, err
}

// release is Release that also returns the release's validator and
// whether GitHub answered 304.
func (r *RepoClient) release(ctx context.Context, tag string) (rel *Release, etag string, notModified bool, err error) {
	route, path, what := "GET /repos/{owner}/{repo}/releases/latest", "releases/latest", "latest release of "+r.String()
	if tag != "" && tag != "latest" {
		route, path, what = "GET /repos/{owner}/{repo}/releases/tags/{tag}", "releases/tags/"+escapeRef(tag), fmt.Sprintf("release %q of %s", tag, r)
	}
	_, cacheKey := releaseKeys(r.owner, r.repo, tag)
	body, etag, notModified, resp, err := r.getConditional(func(hdr http.Header) (*http.Response, error) {
		return r.get(ctx, route, path, hdr)
	}, cacheKey)
	if err != nil {
		return nil, "", false, fmt.Errorf("get %s: %w", what, err)
	}
	if resp != nil {
		return nil, "", false, fmt.Errorf("get %s: %w", what, r.statusError(resp, what))
	}
	rel = &Release{}
	if err := json.Unmarshal(body, rel); err != nil {
		return nil, "", false, fmt.Errorf("get %s: decode: %w", what, err)
	}
	return rel, etag, notModified, nil
}

// Asset streams the content of release asset id, following GitHub's
// redirect to the download host without credentials. The caller must close
// the body.
func (r *RepoClient) Asset(ctx context.Context, id int64) (io.ReadCloser, error) {
	hdr := http.Header{"Accept": {"application/octet-stream"}}
	what := fmt.Sprintf("release asset %d of %s", id, r)
	resp, err := r.get(ctx, "GET /repos/{owner}/{repo}/releases/assets/{asset_id}", "releases/assets/"+strconv.FormatInt(id, 10), hdr)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", what, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download %s: %w", what, r.statusError(resp, what))
	}
	return resp.Body, nil
}

// get sends a GET for repos/{owner}/{repo}/sub.
func (r *RepoClient) get(ctx context.Context, route, sub string, hdr http.Header) (*http.Response, error) {
	path := "repos/" + url.PathEscape(r.owner) + "/" + url.PathEscape(r.repo) + "/" + sub
	req, err := r.c.newRequest(ctx, http.MethodGet, route, path, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	return do(r.hc, req)
}

// statusError turns an unexpected response into a StatusError, adding the
// private-repository hint for anonymous 404s.
func (r *RepoClient) statusError(resp *http.Response, what string) error {
	hint := ""
	if r.c.Anonymous() {
		hint = "access is anonymous, so private repositories look missing: set GITHUB_TOKEN or a GitHub App"
	}
	return newStatusError(resp, what, hint)
}

// escapeRef escapes each segment of a ref but keeps its slashes, as GitHub
// expects for branch names like "feature/x".
func escapeRef(ref string) string {
	parts := strings.Split(ref, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func isHexSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, ch := range s {
		if !('0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f') {
			return false
		}
	}
	return true
}
