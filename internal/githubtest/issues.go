package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Issues routes: list a repository's issues (state and labels filters,
// page/per_page with a Link header), create an issue, create and list an
// issue's comments (oldest first, page/per_page). Routes are added to the handler table at init so that this file
// owns them.
func init() {
	handlers["GET /repos/{owner}/{repo}/issues"] = hListIssues
	handlers["POST /repos/{owner}/{repo}/issues"] = hCreateIssue
	handlers["POST /repos/{owner}/{repo}/issues/{issue_number}/comments"] = hCreateIssueComment
	handlers["GET /repos/{owner}/{repo}/issues/{issue_number}/comments"] = hListIssueComments
}

// Issue is an issue of the fake, as test helpers see it.
type Issue struct {
	Number int
	Title  string
	Body   string
	Labels []string
	// State is "open" or "closed".
	State string
	// HTMLURL is the issue's page, e.g. http://127.0.0.1:1234/o/r/issues/1.
	HTMLURL  string
	Comments []string
}

// issuesState holds the issues of every repository. Guarded by Server.mu.
type issuesState struct {
	byRepo map[string][]*issueRec // "owner/repo" lowercased
	nextID int64
}

type issueRec struct {
	id       int64
	number   int
	title    string
	body     string
	labels   []string
	state    string
	created  time.Time
	comments []*commentRec
}

type commentRec struct {
	id      int64
	body    string
	created time.Time
}

func (s *Server) issuesLocked() *issuesState {
	if s.issues == nil {
		s.issues = &issuesState{byRepo: map[string][]*issueRec{}, nextID: 9000}
	}
	return s.issues
}

// AddIssue stores an issue on owner/repo (which must exist) and returns its
// number. State "" means open.
func (s *Server) AddIssue(owner, repo string, is Issue) int {
	s.t.Helper()
	if s.repo(owner, repo) == nil {
		s.t.Fatalf("githubtest: AddIssue: no repository %s/%s", owner, repo)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := is.State
	if st == "" {
		st = "open"
	}
	rec := s.newIssueLocked(owner, repo, is.Title, is.Body, is.Labels)
	rec.state = st
	for _, c := range is.Comments {
		s.issues.nextID++
		rec.comments = append(rec.comments, &commentRec{id: s.issues.nextID, body: c, created: time.Now().UTC()})
	}
	return rec.number
}

func (s *Server) newIssueLocked(owner, repo, title, body string, labels []string) *issueRec {
	st := s.issuesLocked()
	key := strings.ToLower(owner + "/" + repo)
	st.nextID++
	rec := &issueRec{id: st.nextID, number: len(st.byRepo[key]) + 1, title: title, body: body,
		labels: append([]string{}, labels...), state: "open", created: time.Now().UTC().Truncate(time.Second)}
	st.byRepo[key] = append(st.byRepo[key], rec)
	return rec
}

// Issues returns owner/repo's issues in number order with their comments.
func (s *Server) Issues(owner, repo string) []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Issue
	for _, rec := range s.issuesLocked().byRepo[strings.ToLower(owner+"/"+repo)] {
		is := Issue{Number: rec.number, Title: rec.title, Body: rec.body, Labels: append([]string{}, rec.labels...),
			State: rec.state, HTMLURL: s.issueHTML(owner, repo, rec.number)}
		for _, c := range rec.comments {
			is.Comments = append(is.Comments, c.body)
		}
		out = append(out, is)
	}
	return out
}

func (s *Server) issueHTML(owner, repo string, n int) string {
	return fmt.Sprintf("%s/%s/%s/issues/%d", s.base, owner, repo, n)
}

func (s *Server) labelJSON(owner, repo, name string) map[string]any {
	id := int64(len(name)*7919 + int(name[0]))
	return map[string]any{"id": id, "node_id": nodeID("Label", id), "name": name, "description": nil,
		"color": "ededed", "default": false,
		"url": s.base + "/repos/" + owner + "/" + repo + "/labels/" + url.PathEscape(name)}
}

// issueJSONLocked renders the issue schema. Caller holds s.mu.
func (s *Server) issueJSONLocked(r *Repo, rec *issueRec) map[string]any {
	api := fmt.Sprintf("%s/issues/%d", r.apiURL(), rec.number)
	labels := []any{}
	for _, l := range rec.labels {
		labels = append(labels, s.labelJSON(r.Owner, r.Name, l))
	}
	ts := rec.created.Format(time.RFC3339)
	var closed any
	if rec.state == "closed" {
		closed = ts
	}
	return map[string]any{
		"id": rec.id, "node_id": nodeID("Issue", rec.id), "number": rec.number, "title": rec.title, "body": rec.body,
		"state": rec.state, "locked": false, "labels": labels, "assignee": nil, "assignees": []any{}, "milestone": nil,
		"comments": len(rec.comments), "closed_at": closed, "created_at": ts, "updated_at": ts,
		"author_association": "OWNER", "user": s.userJSON("ghsync-bot", 4242, "Bot"),
		"url": api, "repository_url": r.apiURL(), "labels_url": api + "/labels{/name}",
		"comments_url": api + "/comments", "events_url": api + "/events",
		"html_url": s.issueHTML(r.Owner, r.Name, rec.number),
	}
}

func hListIssues(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var want []string
	if l := q.Get("labels"); l != "" {
		want = strings.Split(l, ",")
	}
	per, page := pageParams(q)
	s := c.s
	s.mu.Lock()
	var match []*issueRec
	recs := s.issuesLocked().byRepo[strings.ToLower(r.Owner+"/"+r.Name)]
	for i := len(recs) - 1; i >= 0; i-- { // newest first, as GitHub sorts by default
		rec := recs[i]
		if state != "all" && rec.state != state {
			continue
		}
		if hasAllLabels(rec.labels, want) {
			match = append(match, rec)
		}
	}
	out := []any{}
	for i := (page - 1) * per; i < len(match) && i < page*per; i++ {
		out = append(out, s.issueJSONLocked(r, match[i]))
	}
	s.mu.Unlock()
	if page*per < len(match) {
		c.linkNext(page, per)
	}
	c.w.json(http.StatusOK, out)
}

func hasAllLabels(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if strings.EqualFold(strings.TrimSpace(w), h) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// writable refuses anonymous writes as GitHub does.
func (c *call) writable() bool {
	if c.r.Header.Get("Authorization") == "" {
		c.unauthorized("Requires authentication")
		return false
	}
	return true
}

func hCreateIssue(c *call) {
	r := c.repo()
	if r == nil || !c.writable() {
		return
	}
	var in struct {
		Title  any    `json:"title"`
		Body   string `json:"body"`
		Labels []any  `json:"labels"`
	}
	if err := json.NewDecoder(c.r.Body).Decode(&in); err != nil {
		c.w.error(http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	title := fmt.Sprint(in.Title)
	if in.Title == nil || title == "" {
		c.w.error(http.StatusUnprocessableEntity, "Validation Failed")
		return
	}
	var labels []string
	for _, l := range in.Labels {
		switch v := l.(type) {
		case string:
			labels = append(labels, v)
		case map[string]any:
			if n, ok := v["name"].(string); ok {
				labels = append(labels, n)
			}
		}
	}
	s := c.s
	s.mu.Lock()
	rec := s.newIssueLocked(r.Owner, r.Name, title, in.Body, labels)
	body := s.issueJSONLocked(r, rec)
	s.mu.Unlock()
	c.w.header.Set("Location", body["url"].(string))
	c.w.json(http.StatusCreated, body)
}

func hCreateIssueComment(c *call) {
	r := c.repo()
	if r == nil || !c.writable() {
		return
	}
	n, err := strconv.Atoi(c.params["issue_number"])
	if err != nil {
		c.w.notFound()
		return
	}
	var in struct {
		Body *string `json:"body"`
	}
	if err := json.NewDecoder(c.r.Body).Decode(&in); err != nil || in.Body == nil {
		c.w.error(http.StatusUnprocessableEntity, "Validation Failed")
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.issuesLocked()
	var rec *issueRec
	for _, x := range st.byRepo[strings.ToLower(r.Owner+"/"+r.Name)] {
		if x.number == n {
			rec = x
		}
	}
	if rec == nil {
		c.w.notFound()
		return
	}
	st.nextID++
	cm := &commentRec{id: st.nextID, body: *in.Body, created: time.Now().UTC().Truncate(time.Second)}
	rec.comments = append(rec.comments, cm)
	body := s.commentJSON(r, n, cm)
	c.w.header.Set("Location", body["url"].(string))
	c.w.json(http.StatusCreated, body)
}

// commentJSON is an issue comment as the REST API returns it.
func (s *Server) commentJSON(r *Repo, n int, cm *commentRec) map[string]any {
	ts := cm.created.Format(time.RFC3339)
	return map[string]any{
		"id": cm.id, "node_id": nodeID("IssueComment", cm.id), "body": cm.body,
		"url":        fmt.Sprintf("%s/issues/comments/%d", r.apiURL(), cm.id),
		"html_url":   fmt.Sprintf("%s#issuecomment-%d", s.issueHTML(r.Owner, r.Name, n), cm.id),
		"issue_url":  fmt.Sprintf("%s/issues/%d", r.apiURL(), n),
		"user":       s.userJSON("ghsync-bot", 4242, "Bot"),
		"created_at": ts, "updated_at": ts, "author_association": "OWNER",
	}
}

// hListIssueComments lists an issue's comments, oldest first, a page at a
// time (per_page default 30, at most 100) with a Link header to the next.
func hListIssueComments(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	n, err := strconv.Atoi(c.params["issue_number"])
	if err != nil {
		c.w.notFound()
		return
	}
	q := c.r.URL.Query()
	per, page := pageParams(q)
	s := c.s
	s.mu.Lock()
	var rec *issueRec
	for _, x := range s.issuesLocked().byRepo[strings.ToLower(r.Owner+"/"+r.Name)] {
		if x.number == n {
			rec = x
		}
	}
	if rec == nil {
		s.mu.Unlock()
		c.w.notFound()
		return
	}
	out := []any{}
	for i := (page - 1) * per; i < len(rec.comments) && i < page*per; i++ {
		out = append(out, s.commentJSON(r, n, rec.comments[i]))
	}
	more := page*per < len(rec.comments)
	s.mu.Unlock()
	if more {
		c.linkNext(page, per)
	}
	c.w.json(http.StatusOK, out)
}

// pageParams reads GitHub's page / per_page query parameters (defaults 1
// and 30, per_page at most 100).
func pageParams(q url.Values) (per, page int) {
	per, page = 30, 1
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		per = min(v, 100)
	}
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	return per, page
}

// linkNext sets the Link header to the request's next page.
func (c *call) linkNext(page, per int) {
	next := *c.r.URL
	nq := next.Query()
	nq.Set("page", strconv.Itoa(page+1))
	nq.Set("per_page", strconv.Itoa(per))
	next.RawQuery = nq.Encode()
	c.w.header.Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, c.s.base, next.RequestURI()))
}
