package webhooks

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/ghsync/ghsync/internal/db"
)

// Tables lists the projection tables, in the order of docs/webhooks.md. Every
// one has the columns described by [EventRow].
var Tables = []string{
	"workflow_job", "workflow_run", "issues", "issues_label_event", "issue_comment",
	"pull_request", "pull_label_event", "push", "pull_request_review", "pull_request_review_comment",
}

// IsTable reports whether name is a projection table.
func IsTable(name string) bool {
	for _, t := range Tables {
		if t == name {
			return true
		}
	}
	return false
}

// projRow is one row to upsert into a projection table.
type projRow struct {
	table      string
	key        string
	repo       string
	number     int64
	action     string
	status     string
	conclusion string
	name       string
	headSHA    string
	updatedAt  string
	orderKey   string
	object     []byte
}

// eventPayload holds the parts of a payload that projections read.
type eventPayload struct {
	Action     string `json:"action"`
	Repository *struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	WorkflowJob json.RawMessage `json:"workflow_job"`
	WorkflowRun json.RawMessage `json:"workflow_run"`
	Issue       json.RawMessage `json:"issue"`
	PullRequest json.RawMessage `json:"pull_request"`
	Comment     json.RawMessage `json:"comment"`
	Review      json.RawMessage `json:"review"`
	Label       json.RawMessage `json:"label"`
	Ref         string          `json:"ref"`
	After       string          `json:"after"`
	HeadCommit  *struct {
		Timestamp string `json:"timestamp"`
	} `json:"head_commit"`
}

// object fields used for filter columns; unknown fields are ignored.
type objFields struct {
	ID          int64  `json:"id"`
	Number      int64  `json:"number"`
	Name        string `json:"name"`
	Title       string `json:"title"`
	Status      string `json:"status"`
	State       string `json:"state"`
	Conclusion  string `json:"conclusion"`
	HeadSHA     string `json:"head_sha"`
	RunAttempt  int64  `json:"run_attempt"`
	CreatedAt   string `json:"created_at"`
	StartedAt   string `json:"started_at"`
	CompletedAt string `json:"completed_at"`
	UpdatedAt   string `json:"updated_at"`
	SubmittedAt string `json:"submitted_at"`
	Head        *struct {
		SHA string `json:"sha"`
	} `json:"head"`
}

// project computes the projection rows for a delivery. Events that are not
// projected, and payloads without a repository, give no rows. receivedAt (in
// db.TimeLayout) is the fallback for objects without a timestamp.
func project(event, deliveryID, receivedAt string, payload []byte) ([]projRow, error) {
	switch event {
	case "workflow_job", "workflow_run", "issues", "issue_comment", "pull_request",
		"push", "pull_request_review", "pull_request_review_comment":
	default:
		return nil, nil
	}
	var p eventPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("decode %s payload: %w", event, err)
	}
	if p.Repository == nil || p.Repository.FullName == "" {
		return nil, nil
	}
	repo := p.Repository.FullName
	obj := func(raw json.RawMessage, what string) (objFields, error) {
		var f objFields
		if len(raw) == 0 || string(raw) == "null" {
			return f, fmt.Errorf("%s payload has no %s", event, what)
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			return f, fmt.Errorf("decode %s.%s: %w", event, what, err)
		}
		return f, nil
	}
	base := projRow{table: event, repo: repo, action: p.Action}
	switch event {
	case "workflow_job":
		f, err := obj(p.WorkflowJob, "workflow_job")
		if err != nil {
			return nil, err
		}
		r := base
		r.key = repo + "/" + strconv.FormatInt(f.ID, 10)
		r.number, r.status, r.conclusion, r.name, r.headSHA = f.ID, f.Status, f.Conclusion, f.Name, f.HeadSHA
		r.updatedAt = firstTime(receivedAt, f.CompletedAt, f.StartedAt, f.CreatedAt)
		// A job only moves forward: queued → in_progress → completed; within a
		// status the later timestamp wins.
		r.orderKey = fmt.Sprintf("%d|%s", statusRank(f.Status), r.updatedAt)
		r.object = p.WorkflowJob
		return []projRow{r}, nil
	case "workflow_run":
		f, err := obj(p.WorkflowRun, "workflow_run")
		if err != nil {
			return nil, err
		}
		r := base
		r.key = repo + "/" + strconv.FormatInt(f.ID, 10)
		r.number, r.status, r.conclusion, r.name, r.headSHA = f.ID, f.Status, f.Conclusion, f.Name, f.HeadSHA
		r.updatedAt = firstTime(receivedAt, f.UpdatedAt, f.CreatedAt)
		// A re-run starts a new attempt (back to queued); within an attempt
		// updated_at, then the status progression, decide.
		r.orderKey = fmt.Sprintf("%09d|%s|%d", f.RunAttempt, r.updatedAt, statusRank(f.Status))
		r.object = p.WorkflowRun
		return []projRow{r}, nil
	case "issues", "pull_request":
		raw := p.Issue
		labelTable := "issues_label_event"
		if event == "pull_request" {
			raw, labelTable = p.PullRequest, "pull_label_event"
		}
		f, err := obj(raw, event)
		if err != nil {
			return nil, err
		}
		r := base
		r.key = repo + "/" + strconv.FormatInt(f.Number, 10)
		r.number, r.status, r.name = f.Number, f.State, f.Title
		if p.Action == "deleted" {
			r.status = "deleted"
		}
		if f.Head != nil {
			r.headSHA = f.Head.SHA
		}
		r.updatedAt = firstTime(receivedAt, f.UpdatedAt, f.CreatedAt)
		r.orderKey = fmt.Sprintf("%s|%d", r.updatedAt, boolRank(p.Action == "deleted"))
		r.object = raw
		rows := []projRow{r}
		if (p.Action == "labeled" || p.Action == "unlabeled") && len(p.Label) > 0 && string(p.Label) != "null" {
			var l struct {
				Name string `json:"name"`
			}
			if err := json.Unmarshal(p.Label, &l); err != nil {
				return nil, fmt.Errorf("decode %s.label: %w", event, err)
			}
			lr := r
			lr.table = labelTable
			lr.key = r.key + "-" + l.Name
			lr.status, lr.name = p.Action, l.Name
			lr.orderKey = r.updatedAt
			lr.object = p.Label
			rows = append(rows, lr)
		}
		return rows, nil
	case "issue_comment":
		f, err := obj(p.Comment, "comment")
		if err != nil {
			return nil, err
		}
		issue, err := obj(p.Issue, "issue")
		if err != nil {
			return nil, err
		}
		r := base
		r.key = fmt.Sprintf("%s/%d/%d", repo, issue.Number, f.ID)
		r.number, r.status = issue.Number, p.Action
		r.updatedAt = firstTime(receivedAt, f.UpdatedAt, f.CreatedAt)
		r.orderKey = fmt.Sprintf("%s|%d", r.updatedAt, boolRank(p.Action == "deleted"))
		r.object = p.Comment
		return []projRow{r}, nil
	case "push":
		r := base
		r.key = repo + "/" + deliveryID
		r.name, r.headSHA = p.Ref, p.After
		ts := ""
		if p.HeadCommit != nil {
			ts = p.HeadCommit.Timestamp
		}
		r.updatedAt = firstTime(receivedAt, ts)
		r.object = payload
		return []projRow{r}, nil
	case "pull_request_review", "pull_request_review_comment":
		raw := p.Review
		if event == "pull_request_review_comment" {
			raw = p.Comment
		}
		f, err := obj(raw, "object")
		if err != nil {
			return nil, err
		}
		pr, _ := obj(p.PullRequest, "pull_request")
		r := base
		r.key = repo + "/" + deliveryID
		r.number = pr.Number
		r.status = f.State
		if event == "pull_request_review_comment" {
			r.status = p.Action
		}
		r.updatedAt = firstTime(receivedAt, f.UpdatedAt, f.SubmittedAt, f.CreatedAt)
		r.object = raw
		if len(raw) > 0 && raw[0] != '{' {
			r.object = payload
		}
		return []projRow{r}, nil
	}
	return nil, nil
}

// statusRank orders GitHub Actions statuses: anything before in_progress is 0.
func statusRank(s string) int {
	switch s {
	case "in_progress":
		return 1
	case "completed":
		return 2
	default: // requested, queued, waiting, pending
		return 0
	}
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// firstTime returns the first non-empty timestamp normalised to db.TimeLayout
// (so string order is time order), else fallback.
func firstTime(fallback string, ts ...string) string {
	for _, s := range ts {
		if s == "" {
			continue
		}
		if t, err := db.ParseTime(s); err == nil {
			return db.FormatTime(t)
		}
	}
	return fallback
}
