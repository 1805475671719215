package githubtest

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// This file lists an owner's repositories as GitHub does:
// GET /installation/repositories (an installation token: the repositories
// of the installation's account), GET /orgs/{org}/repos and
// GET /users/{username}/repos (a token, or anonymous: private repositories
// only with credentials). Listings are paginated (per_page default 30, at
// most 100, with a Link header) and, like every GET of the fake, carry a
// strong ETag so an unchanged page is answered 304.

// SetTopics sets the repository's topics (GitHub's "topics" field).
func (r *Repo) SetTopics(topics ...string) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.topics = append([]string(nil), topics...)
}

// SetArchived marks the repository archived (read-only) or not.
func (r *Repo) SetArchived(archived bool) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.archived = archived
}

// RemoveRepo deletes owner/name (its git objects stay, unreachable); later
// requests for it get 404 and listings leave it out.
func (s *Server) RemoveRepo(owner, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.repos, strings.ToLower(owner+"/"+name))
}

// SetUserAccount marks login as a user account rather than an
// organization: GET /orgs/{login}/repos then answers 404, as GitHub does.
func (s *Server) SetUserAccount(login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users == nil {
		s.users = map[string]bool{}
	}
	s.users[strings.ToLower(login)] = true
}

// ownerReposLocked returns owner's repositories sorted by name, leaving out
// private ones unless withPrivate. Caller holds s.mu.
func (s *Server) ownerReposLocked(owner string, withPrivate bool) []*Repo {
	var out []*Repo
	for _, r := range s.repos {
		if strings.EqualFold(r.Owner, owner) && (withPrivate || !r.private) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out
}

// page cuts list to the request's page and sets the Link header GitHub
// sends when there is more than one page. It answers 422 for a bad
// per_page/page and returns ok=false.
func (c *call) page(n int) (lo, hi int, ok bool) {
	q := c.r.URL.Query()
	per, pg := 30, 1
	if v := q.Get("per_page"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 {
			c.w.error(http.StatusUnprocessableEntity, "per_page must be a positive integer")
			return 0, 0, false
		}
		per = min(p, 100)
	}
	if v := q.Get("page"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 {
			c.w.error(http.StatusUnprocessableEntity, "page must be a positive integer")
			return 0, 0, false
		}
		pg = p
	}
	last := max((n+per-1)/per, 1)
	if last > 1 {
		link := func(p int, rel string) string {
			u := *c.r.URL
			v := u.Query()
			v.Set("per_page", strconv.Itoa(per))
			v.Set("page", strconv.Itoa(p))
			u.RawQuery = v.Encode()
			return fmt.Sprintf("<%s%s>; rel=%q", c.s.base, u.RequestURI(), rel)
		}
		var links []string
		if pg < last {
			links = append(links, link(pg+1, "next"), link(last, "last"))
		}
		if pg > 1 {
			links = append(links, link(1, "first"), link(pg-1, "prev"))
		}
		if len(links) > 0 {
			c.w.header.Set("Link", strings.Join(links, ", "))
		}
	}
	lo = min((pg-1)*per, n)
	return lo, min(lo+per, n), true
}

// hInstallationRepos lists the repositories of the token's installation.
func hInstallationRepos(c *call) {
	if c.auth.token == nil {
		c.w.error(http.StatusForbidden, "This endpoint requires an installation access token")
		return
	}
	s := c.s
	s.mu.Lock()
	repos := s.ownerReposLocked(c.auth.token.inst.account, true)
	s.mu.Unlock()
	lo, hi, ok := c.page(len(repos))
	if !ok {
		return
	}
	s.mu.Lock()
	items := make([]map[string]any, 0, hi-lo)
	for _, r := range repos[lo:hi] {
		items = append(items, r.repoJSONLocked())
	}
	s.mu.Unlock()
	c.w.json(http.StatusOK, map[string]any{"total_count": len(repos), "repositories": items})
}

func hOrgRepos(c *call) {
	c.s.mu.Lock()
	user := c.s.users[strings.ToLower(c.params["org"])]
	c.s.mu.Unlock()
	if user {
		c.w.notFound()
		return
	}
	ownerRepos(c, c.params["org"])
}

func hUserRepos(c *call) { ownerRepos(c, c.params["username"]) }

// ownerRepos answers a token (or anonymous) listing of owner's
// repositories; an owner without any is 404, as an unknown account is.
func ownerRepos(c *call, owner string) {
	s := c.s
	if c.auth.token != nil && !strings.EqualFold(c.auth.token.inst.account, owner) {
		c.w.notFound()
		return
	}
	withPrivate := c.auth.token != nil || s.Token != ""
	s.mu.Lock()
	all := s.ownerReposLocked(owner, true)
	repos := s.ownerReposLocked(owner, withPrivate)
	s.mu.Unlock()
	if len(all) == 0 {
		c.w.notFound()
		return
	}
	lo, hi, ok := c.page(len(repos))
	if !ok {
		return
	}
	s.mu.Lock()
	items := make([]map[string]any, 0, hi-lo)
	for _, r := range repos[lo:hi] {
		items = append(items, r.repoJSONLocked())
	}
	s.mu.Unlock()
	c.w.json(http.StatusOK, items)
}
