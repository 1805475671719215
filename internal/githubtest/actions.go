package githubtest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Actions routes: a workflow job and its log (a 302 to blob storage, as
// GitHub answers). Routes are added to the handler table at init so that this
// file, not the shared table, owns them.
func init() {
	handlers["GET /repos/{owner}/{repo}/actions/jobs/{job_id}"] = hJob
	handlers["GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs"] = hJobLogs
}

// actionsState holds the fake's Actions jobs, job log locations and the
// App's webhook deliveries (hookdeliveries.go). Guarded by Server.mu.
type actionsState struct {
	jobs        map[string]Job    // "owner/repo/id" lowercased
	logs        map[string]string // same key → log download URL
	deliveries  []*HookDelivery   // oldest first
	redelivered []int64           // delivery ids POSTed to .../attempts, in order
	onRedeliver func(HookDelivery)
}

// Job is a workflow job as GET /repos/{owner}/{repo}/actions/jobs/{job_id}
// returns it. Zero times are rendered as the fake's epoch (or null where the
// schema allows).
type Job struct {
	ID          int64
	RunID       int64
	Name        string
	HeadSHA     string
	Status      string // queued, in_progress, completed, …
	Conclusion  string // "" renders null
	CreatedAt   time.Time
	StartedAt   time.Time
	CompletedAt time.Time // zero renders null
}

func (s *Server) actionsLocked() *actionsState {
	if s.actions == nil {
		s.actions = &actionsState{jobs: map[string]Job{}, logs: map[string]string{}}
	}
	return s.actions
}

func jobKey(owner, repo string, id int64) string {
	return strings.ToLower(owner + "/" + repo + "/" + strconv.FormatInt(id, 10))
}

// SetJob stores (or replaces) a workflow job of owner/repo, served by
// GET /repos/{owner}/{repo}/actions/jobs/{job_id}. The repository must have
// been added with AddRepo.
func (s *Server) SetJob(owner, repo string, j Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actionsLocked().jobs[jobKey(owner, repo, j.ID)] = j
}

// SetJobLogURL makes GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs
// answer 302 with Location url (the test's blob server, which must check
// that no GitHub credentials reach it). Without it the route answers 404,
// as GitHub does while a job's log is not ready.
func (s *Server) SetJobLogURL(owner, repo string, jobID int64, url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actionsLocked().logs[jobKey(owner, repo, jobID)] = url
}

func (c *call) jobID() (int64, bool) {
	id, err := strconv.ParseInt(c.params["job_id"], 10, 64)
	return id, err == nil
}

func hJobLogs(c *call) {
	id, ok := c.jobID()
	if !ok || c.repo() == nil {
		c.w.notFound()
		return
	}
	c.s.mu.Lock()
	loc, ok := c.s.actionsLocked().logs[jobKey(c.params["owner"], c.params["repo"], id)]
	c.s.mu.Unlock()
	if !ok {
		c.w.notFound()
		return
	}
	c.w.redirect(loc)
}

func hJob(c *call) {
	id, ok := c.jobID()
	if !ok || c.repo() == nil {
		c.w.notFound()
		return
	}
	owner, repo := c.params["owner"], c.params["repo"]
	c.s.mu.Lock()
	j, ok := c.s.actionsLocked().jobs[jobKey(owner, repo, id)]
	c.s.mu.Unlock()
	if !ok {
		c.w.notFound()
		return
	}
	c.w.json(http.StatusOK, c.s.jobJSON(owner, repo, j))
}

func (s *Server) jobJSON(owner, repo string, j Job) map[string]any {
	ts := func(t time.Time) string {
		if t.IsZero() {
			t = epoch
		}
		return t.UTC().Format(time.RFC3339)
	}
	nullable := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	var completed any
	if !j.CompletedAt.IsZero() {
		completed = ts(j.CompletedAt)
	}
	repoURL := fmt.Sprintf("%s/repos/%s/%s", s.base, owner, repo)
	return map[string]any{
		"id":                j.ID,
		"run_id":            j.RunID,
		"run_url":           fmt.Sprintf("%s/actions/runs/%d", repoURL, j.RunID),
		"run_attempt":       1,
		"node_id":           fmt.Sprintf("CR_kwDO%d", j.ID),
		"head_sha":          j.HeadSHA,
		"url":               fmt.Sprintf("%s/actions/jobs/%d", repoURL, j.ID),
		"html_url":          fmt.Sprintf("https://github.com/%s/%s/actions/runs/%d/job/%d", owner, repo, j.RunID, j.ID),
		"status":            j.Status,
		"conclusion":        nullable(j.Conclusion),
		"created_at":        ts(j.CreatedAt),
		"started_at":        ts(j.StartedAt),
		"completed_at":      completed,
		"name":              j.Name,
		"steps":             []any{},
		"check_run_url":     fmt.Sprintf("%s/check-runs/%d", repoURL, j.ID),
		"labels":            []string{"ubuntu-latest"},
		"runner_id":         nil,
		"runner_name":       nil,
		"runner_group_id":   nil,
		"runner_group_name": nil,
		"workflow_name":     "ci",
		"head_branch":       "main",
	}
}
