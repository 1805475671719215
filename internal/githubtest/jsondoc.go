package githubtest

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// This file renders GitHub's JSON shapes (simple-user, full-repository,
// commit, git-tree, blob, release, release-asset) from the fake's state.

func nodeID(kind string, id any) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%s:%v", kind, id)))
}

func (s *Server) userJSON(login string, id int64, typ string) map[string]any {
	u := s.base + "/users/" + login
	return map[string]any{
		"login": login, "id": id, "node_id": nodeID("User", id), "type": typ, "site_admin": false,
		"avatar_url":          fmt.Sprintf("%s/avatars/u/%d", s.base, id),
		"gravatar_id":         "",
		"url":                 u,
		"html_url":            s.base + "/" + login,
		"followers_url":       u + "/followers",
		"following_url":       u + "/following{/other_user}",
		"gists_url":           u + "/gists{/gist_id}",
		"starred_url":         u + "/starred{/owner}{/repo}",
		"subscriptions_url":   u + "/subscriptions",
		"organizations_url":   u + "/orgs",
		"repos_url":           u + "/repos",
		"events_url":          u + "/events{/privacy}",
		"received_events_url": u + "/received_events",
	}
}

func (r *Repo) apiURL() string { return r.s.base + "/repos/" + r.Owner + "/" + r.Name }

// repoJSONLocked renders full-repository. Caller holds s.mu.
func (r *Repo) repoJSONLocked() map[string]any {
	a := r.apiURL()
	html := r.s.base + "/" + r.Owner + "/" + r.Name
	ts := r.created.Format(time.RFC3339)
	pushed := ts
	if head := r.branches[r.defaultBranch]; head != "" {
		if c := r.s.commits[head]; c != nil {
			pushed = commitTime(c.seq).Format(time.RFC3339)
		}
	}
	visibility := "public"
	if r.private {
		visibility = "private"
	}
	m := map[string]any{
		"id": r.id, "node_id": nodeID("Repository", r.id), "name": r.Name, "full_name": r.Owner + "/" + r.Name,
		"owner": r.s.userJSON(r.Owner, r.ownerID, "Organization"), "private": r.private, "visibility": visibility,
		"html_url": html, "description": nil, "fork": false, "url": a,
		"homepage": nil, "language": nil, "mirror_url": nil, "license": nil,
		"forks_count": 0, "stargazers_count": 0, "watchers_count": 0, "size": 0,
		"forks": 0, "open_issues": 0, "watchers": 0, "open_issues_count": 0,
		"subscribers_count": 0, "network_count": 0,
		"default_branch": r.defaultBranch,
		"has_issues":     true, "has_projects": false, "has_wiki": false, "has_pages": false,
		"has_discussions": false, "has_downloads": true, "archived": r.archived, "disabled": false,
		"pushed_at": pushed, "created_at": ts, "updated_at": pushed,
		"clone_url": html + ".git", "git_url": strings.Replace(html, "http", "git", 1) + ".git",
		"ssh_url":           "git@" + strings.TrimPrefix(strings.TrimPrefix(r.s.base, "http://"), "https://") + ":" + r.Owner + "/" + r.Name + ".git",
		"svn_url":           html,
		"topics":            append([]string{}, r.topics...),
		"archive_url":       a + "/{archive_format}{/ref}",
		"assignees_url":     a + "/assignees{/user}",
		"blobs_url":         a + "/git/blobs{/sha}",
		"branches_url":      a + "/branches{/branch}",
		"collaborators_url": a + "/collaborators{/collaborator}",
		"comments_url":      a + "/comments{/number}",
		"commits_url":       a + "/commits{/sha}",
		"compare_url":       a + "/compare/{base}...{head}",
		"contents_url":      a + "/contents/{+path}",
		"contributors_url":  a + "/contributors",
		"deployments_url":   a + "/deployments",
		"downloads_url":     a + "/downloads",
		"events_url":        a + "/events",
		"forks_url":         a + "/forks",
		"git_commits_url":   a + "/git/commits{/sha}",
		"git_refs_url":      a + "/git/refs{/sha}",
		"git_tags_url":      a + "/git/tags{/sha}",
		"hooks_url":         a + "/hooks",
		"issue_comment_url": a + "/issues/comments{/number}",
		"issue_events_url":  a + "/issues/events{/number}",
		"issues_url":        a + "/issues{/number}",
		"keys_url":          a + "/keys{/key_id}",
		"labels_url":        a + "/labels{/name}",
		"languages_url":     a + "/languages",
		"merges_url":        a + "/merges",
		"milestones_url":    a + "/milestones{/number}",
		"notifications_url": a + "/notifications{?since,all,participating}",
		"pulls_url":         a + "/pulls{/number}",
		"releases_url":      a + "/releases{/id}",
		"stargazers_url":    a + "/stargazers",
		"statuses_url":      a + "/statuses/{sha}",
		"subscribers_url":   a + "/subscribers",
		"subscription_url":  a + "/subscription",
		"tags_url":          a + "/tags",
		"teams_url":         a + "/teams",
		"trees_url":         a + "/git/trees{/sha}",
	}
	return m
}

// commitJSONLocked renders the commit schema. Caller holds s.mu.
func (r *Repo) commitJSONLocked(c *gitCommit) map[string]any {
	a := r.apiURL()
	html := r.s.base + "/" + r.Owner + "/" + r.Name
	date := commitTime(c.seq).Format(time.RFC3339)
	who := map[string]any{"name": fakeAuthorName, "email": fakeAuthorEmail, "date": date}
	parents := make([]map[string]any, 0, len(c.parents))
	for _, p := range c.parents {
		parents = append(parents, map[string]any{"sha": p, "url": a + "/commits/" + p, "html_url": html + "/commit/" + p})
	}
	return map[string]any{
		"url": a + "/commits/" + c.sha, "sha": c.sha, "node_id": nodeID("Commit", c.sha),
		"html_url":     html + "/commit/" + c.sha,
		"comments_url": a + "/commits/" + c.sha + "/comments",
		"commit": map[string]any{
			"url": a + "/git/commits/" + c.sha, "author": who, "committer": who,
			"message": c.message, "comment_count": 0,
			"tree": map[string]any{"sha": c.tree, "url": a + "/git/trees/" + c.tree},
		},
		"author": nil, "committer": nil,
		"parents": parents,
	}
}

// treeJSONLocked renders git-tree for t, recursively if asked, truncating
// after limit entries. Caller holds s.mu.
func (r *Repo) treeJSONLocked(t *gitTree, recursive bool, limit int) map[string]any {
	a := r.apiURL()
	entries := make([]map[string]any, 0, len(t.entries))
	truncated := false
	var walk func(t *gitTree, prefix string) bool
	walk = func(t *gitTree, prefix string) bool {
		for _, e := range t.entries {
			if len(entries) >= limit {
				truncated = true
				return false
			}
			mode := e.mode
			if mode == "40000" {
				mode = "040000"
			}
			m := map[string]any{"path": prefix + e.name, "mode": mode, "type": e.kind(), "sha": e.sha}
			switch e.kind() {
			case "blob":
				m["size"] = e.size
				m["url"] = a + "/git/blobs/" + e.sha
			case "tree":
				m["url"] = a + "/git/trees/" + e.sha
			}
			entries = append(entries, m)
			if recursive && e.kind() == "tree" {
				if sub := r.s.trees[e.sha]; sub != nil && !walk(sub, prefix+e.name+"/") {
					return false
				}
			}
		}
		return true
	}
	walk(t, "")
	return map[string]any{"sha": t.sha, "url": a + "/git/trees/" + t.sha, "tree": entries, "truncated": truncated}
}

// blobJSON renders the blob schema with GitHub's 60-column base64.
func (r *Repo) blobJSON(sha string, content []byte) map[string]any {
	enc := base64.StdEncoding.EncodeToString(content)
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60])
		b.WriteByte('\n')
		enc = enc[60:]
	}
	b.WriteString(enc)
	if b.Len() > 0 {
		b.WriteByte('\n')
	}
	return map[string]any{
		"sha": sha, "node_id": nodeID("Blob", sha), "size": len(content),
		"url": r.apiURL() + "/git/blobs/" + sha, "content": b.String(), "encoding": "base64",
	}
}

// releaseJSONLocked renders the release schema. Caller holds s.mu.
func (r *Repo) releaseJSONLocked(rel *release) map[string]any {
	a := r.apiURL()
	html := r.s.base + "/" + r.Owner + "/" + r.Name
	ts := rel.created.Format(time.RFC3339)
	assets := make([]map[string]any, 0, len(rel.assets))
	for _, as := range rel.assets {
		assets = append(assets, r.s.assetJSON(as))
	}
	var published any = ts
	if rel.draft {
		published = nil
	}
	return map[string]any{
		"url": fmt.Sprintf("%s/releases/%d", a, rel.id), "html_url": html + "/releases/tag/" + rel.tag,
		"assets_url":  fmt.Sprintf("%s/releases/%d/assets", a, rel.id),
		"upload_url":  fmt.Sprintf("%s/releases/%d/assets{?name,label}", a, rel.id),
		"tarball_url": a + "/tarball/" + rel.tag, "zipball_url": a + "/zipball/" + rel.tag,
		"id": rel.id, "node_id": nodeID("Release", rel.id), "tag_name": rel.tag,
		"target_commitish": r.defaultBranch, "name": rel.name, "body": "",
		"draft": rel.draft, "prerelease": rel.prerelease, "immutable": false,
		"created_at": ts, "published_at": published,
		"author": r.s.userJSON("octocat", 583231, "User"), "assets": assets,
	}
}

func (s *Server) assetJSON(as *assetRec) map[string]any {
	r := as.repo
	ts := as.created.Format(time.RFC3339)
	return map[string]any{
		"url":                  fmt.Sprintf("%s/releases/assets/%d", r.apiURL(), as.id),
		"browser_download_url": s.downloadURL(as),
		"id":                   as.id, "node_id": nodeID("ReleaseAsset", as.id), "name": as.name,
		"label": nil, "state": "uploaded", "content_type": as.contentType, "size": len(as.content),
		"digest": "sha256:" + sha256Hex(as.content), "download_count": 0,
		"created_at": ts, "updated_at": ts, "uploader": s.userJSON("octocat", 583231, "User"),
	}
}

func (s *Server) downloadURL(as *assetRec) string {
	return fmt.Sprintf("%s/_download/%d/%s", s.base, as.id, as.name)
}
