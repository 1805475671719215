package githubtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// handlers maps route keys to their implementation. It is never mutated;
// its keys also decide which parts of the contract are loaded.
var handlers = map[string]handlerFunc{
	"GET /repos/{owner}/{repo}":                               hRepo,
	"GET /repos/{owner}/{repo}/commits/{ref}":                 hCommit,
	"GET /repos/{owner}/{repo}/git/trees/{tree_sha}":          hTree,
	"GET /repos/{owner}/{repo}/git/blobs/{file_sha}":          hBlob,
	"GET /repos/{owner}/{repo}/tarball/{ref}":                 func(c *call) { hArchive(c, "legacy.tar.gz") },
	"GET /repos/{owner}/{repo}/zipball/{ref}":                 func(c *call) { hArchive(c, "legacy.zip") },
	"GET /repos/{owner}/{repo}/releases/latest":               hLatestRelease,
	"GET /repos/{owner}/{repo}/releases/tags/{tag}":           hReleaseByTag,
	"GET /repos/{owner}/{repo}/releases/assets/{asset_id}":    hAsset,
	"GET /app/installations":                                  hAppInstallations,
	"GET /repos/{owner}/{repo}/installation":                  hRepoInstallation,
	"GET /orgs/{org}/installation":                            hOrgInstallation,
	"GET /users/{username}/installation":                      hUserInstallation,
	"POST /app/installations/{installation_id}/access_tokens": hAccessToken,
	"GET /rate_limit":                                         hRateLimit,
	"GET /installation/repositories":                          hInstallationRepos,
	"GET /orgs/{org}/repos":                                   hOrgRepos,
	"GET /users/{username}/repos":                             hUserRepos,
}

// implementedTemplates lists the OpenAPI path templates of handlers.
func implementedTemplates() []string {
	seen := map[string]bool{}
	var out []string
	for key := range handlers {
		_, tpl, _ := strings.Cut(key, " ")
		if !seen[tpl] {
			seen[tpl] = true
			out = append(out, tpl)
		}
	}
	return out
}

// githubMediaType reduces an Accept header to GitHub's media type
// parameter: "json" (default), "sha", "raw", "diff", "patch", "octet".
func githubMediaType(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if mt == "application/octet-stream" {
			return "octet"
		}
		rest, ok := strings.CutPrefix(mt, "application/vnd.github")
		if !ok {
			continue
		}
		rest = strings.TrimPrefix(rest, ".")
		rest = strings.TrimPrefix(rest, "v3")
		rest = strings.TrimPrefix(rest, ".")
		rest = strings.TrimSuffix(rest, "+json")
		rest = strings.TrimPrefix(rest, "+json")
		if rest == "" || rest == "json" {
			return "json"
		}
		return rest
	}
	return "json"
}

// repo finds the route's repository, hiding it (404) when the credentials
// may not see it: an installation token of another account, or anonymous
// access to a private repository.
func (c *call) repo() *Repo {
	r := c.s.repo(c.params["owner"], c.params["repo"])
	if r == nil {
		c.w.notFound()
		return nil
	}
	if c.auth.token != nil && !strings.EqualFold(c.auth.token.inst.account, r.Owner) {
		c.w.notFound()
		return nil
	}
	c.s.mu.Lock()
	private := r.private
	c.s.mu.Unlock()
	if private && c.auth.token == nil && c.s.Token == "" {
		c.w.notFound()
		return nil
	}
	return r
}

func hRepo(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	c.s.mu.Lock()
	body := r.repoJSONLocked()
	c.s.mu.Unlock()
	c.w.json(http.StatusOK, body)
}

func hCommit(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	ref := c.params["ref"]
	s := c.s
	s.mu.Lock()
	empty := len(r.commitSet) == 0
	sha, ambiguous := r.resolveLocked(ref)
	var body map[string]any
	if sha != "" {
		body = r.commitJSONLocked(s.commits[sha])
	}
	s.mu.Unlock()
	switch {
	case empty:
		c.w.error(http.StatusConflict, "Git Repository is empty.")
		return
	case ambiguous:
		c.w.error(http.StatusUnprocessableEntity, "No commit found for SHA: "+ref)
		return
	case sha == "":
		c.w.error(http.StatusUnprocessableEntity, "No commit found for SHA: "+ref)
		return
	}
	if githubMediaType(c.r.Header.Get("Accept")) == "sha" {
		c.w.status = http.StatusOK
		c.w.header.Set("Content-Type", "application/vnd.github.sha; charset=utf-8")
		// GitHub's validator for this media type is the quoted SHA itself;
		// go-github's GetCommitSHA1(lastSHA) relies on that.
		c.w.header.Set("ETag", `"`+sha+`"`)
		c.w.body.WriteString(sha)
		return
	}
	c.w.json(http.StatusOK, body)
}

func hTree(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	want := c.params["tree_sha"]
	_, recursive := c.r.URL.Query()["recursive"]
	s := c.s
	s.mu.Lock()
	t := s.trees[strings.ToLower(want)]
	if t == nil {
		if sha, _ := r.resolveLocked(want); sha != "" {
			t = s.trees[s.commits[sha].tree]
		}
	}
	var body map[string]any
	if t != nil {
		body = r.treeJSONLocked(t, recursive, s.opts.TreeLimit)
	}
	s.mu.Unlock()
	if body == nil {
		c.w.notFound()
		return
	}
	c.w.json(http.StatusOK, body)
}

func hBlob(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	sha := strings.ToLower(c.params["file_sha"])
	c.s.mu.Lock()
	content, ok := c.s.blobs[sha]
	c.s.mu.Unlock()
	if !ok {
		c.w.notFound()
		return
	}
	if githubMediaType(c.r.Header.Get("Accept")) == "raw" {
		c.w.status = http.StatusOK
		c.w.header.Set("Content-Type", "application/vnd.github.raw")
		c.w.body.Write(content)
		return
	}
	c.w.json(http.StatusOK, r.blobJSON(sha, content))
}

func hArchive(c *call, format string) {
	r := c.repo()
	if r == nil {
		return
	}
	c.s.mu.Lock()
	sha, _ := r.resolveLocked(c.params["ref"])
	c.s.mu.Unlock()
	if sha == "" {
		c.w.notFound()
		return
	}
	c.w.redirect(fmt.Sprintf("%s/_codeload/%s/%s/%s/%s", c.s.base, r.Owner, r.Name, format, sha))
}

func hLatestRelease(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	c.s.mu.Lock()
	var latest *release
	for _, rel := range r.releases {
		if rel.draft || rel.prerelease {
			continue
		}
		if latest == nil || !rel.created.Before(latest.created) {
			latest = rel
		}
	}
	var body map[string]any
	if latest != nil {
		body = r.releaseJSONLocked(latest)
	}
	c.s.mu.Unlock()
	if body == nil {
		c.w.notFound()
		return
	}
	c.w.json(http.StatusOK, body)
}

func hReleaseByTag(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	tag := c.params["tag"]
	c.s.mu.Lock()
	var body map[string]any
	for i := len(r.releases) - 1; i >= 0; i-- {
		if rel := r.releases[i]; rel.tag == tag && !rel.draft {
			body = r.releaseJSONLocked(rel)
			break
		}
	}
	c.s.mu.Unlock()
	if body == nil {
		c.w.notFound()
		return
	}
	c.w.json(http.StatusOK, body)
}

func hAsset(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	id, err := strconv.ParseInt(c.params["asset_id"], 10, 64)
	c.s.mu.Lock()
	as := c.s.assets[id]
	c.s.mu.Unlock()
	if err != nil || as == nil || as.repo != r {
		c.w.notFound()
		return
	}
	if githubMediaType(c.r.Header.Get("Accept")) == "octet" {
		c.w.redirect(c.s.downloadURL(as))
		return
	}
	c.w.json(http.StatusOK, c.s.assetJSON(as))
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
