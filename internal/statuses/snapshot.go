package statuses

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Formats of a snapshot object.
const (
	// FormatV5 is a JSON array of commits, the shape existing HUD
	// front-ends read (see docs/statuses.md).
	FormatV5 = "v5"
	// FormatGhsync is a JSON object with the v5 fields and more per job and
	// commit.
	FormatGhsync = "ghsync"
)

// Commit is one commit of a snapshot, newest first in a Snapshot.
type Commit struct {
	SHA      string `json:"sha"`
	Headline string `json:"headline"`
	Body     string `json:"body"`
	// Author is the GitHub login, or the git author name when no user is linked.
	Author string `json:"author"`
	// Date is the authored date as GitHub reports it (ISO 8601).
	Date string `json:"date"`
	// PR is the number of the pull request the commit came from (ghsync only).
	PR int `json:"pr,omitempty"`
	// Counts is the number of jobs per status (ghsync only; filled by encode).
	Counts map[string]int `json:"counts,omitempty"`
	Jobs   []Job          `json:"jobs"`
}

// Job is one CI job of a commit: a check run or a legacy status context.
type Job struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	URL    string `json:"url"`
	// The fields below are written in the ghsync format only.
	Kind          string `json:"kind,omitempty"` // "check_run" or "status"
	App           string `json:"app,omitempty"`
	Workflow      string `json:"workflow,omitempty"`
	CheckRunID    int64  `json:"check_run_id,omitempty"`
	WorkflowRunID int64  `json:"workflow_run_id,omitempty"`
	RunNumber     int    `json:"run_number,omitempty"`
	StartedAt     string `json:"started_at,omitempty"`
	CompletedAt   string `json:"completed_at,omitempty"`
}

// v5Commit and v5Job fix the v5 field set and order.
type v5Commit struct {
	SHA      string  `json:"sha"`
	Headline string  `json:"headline"`
	Body     string  `json:"body"`
	Author   string  `json:"author"`
	Date     string  `json:"date"`
	Jobs     []v5Job `json:"jobs"`
}

type v5Job struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	URL    string `json:"url"`
}

// ghsyncDoc is the ghsync format's top-level object.
type ghsyncDoc struct {
	Format  string   `json:"format"`
	Version int      `json:"version"`
	Repo    string   `json:"repo"`
	Branch  string   `json:"branch"`
	Commits []Commit `json:"commits"`
}

// concluded reports whether a job status is final.
func concluded(status string) bool {
	switch status {
	case "queued", "pending", "expected", "":
		return false
	}
	return true
}

// settled reports whether c needs no refetch: every job concluded and, for
// a commit without jobs, authored at least settle ago (CI may not have
// started yet).
func settled(c *Commit, now time.Time, settle time.Duration) bool {
	if len(c.Jobs) == 0 {
		t, err := time.Parse(time.RFC3339, c.Date)
		return err == nil && now.Sub(t) >= settle
	}
	for _, j := range c.Jobs {
		if !concluded(j.Status) {
			return false
		}
	}
	return true
}

// sortJobs orders jobs by name, then URL, so output is stable run to run.
func sortJobs(jobs []Job) {
	sort.SliceStable(jobs, func(a, b int) bool {
		if jobs[a].Name != jobs[b].Name {
			return jobs[a].Name < jobs[b].Name
		}
		return jobs[a].URL < jobs[b].URL
	})
}

// encode renders commits in format (uncompressed, no trailing newline).
func encode(format, repo, branch string, commits []*Commit) ([]byte, error) {
	var v any
	switch format {
	case FormatV5:
		out := make([]v5Commit, len(commits))
		for i, c := range commits {
			jobs := make([]v5Job, len(c.Jobs))
			for k, j := range c.Jobs {
				jobs[k] = v5Job{Name: j.Name, Status: j.Status, URL: j.URL}
			}
			out[i] = v5Commit{SHA: c.SHA, Headline: c.Headline, Body: c.Body, Author: c.Author, Date: c.Date, Jobs: jobs}
		}
		v = out
	case FormatGhsync:
		doc := ghsyncDoc{Format: FormatGhsync, Version: 1, Repo: repo, Branch: branch, Commits: make([]Commit, len(commits))}
		for i, c := range commits {
			cc := *c
			cc.Jobs = append([]Job{}, c.Jobs...)
			cc.Counts = map[string]int{}
			for _, j := range cc.Jobs {
				cc.Counts[j.Status]++
			}
			doc.Commits[i] = cc
		}
		v = doc
	default:
		return nil, fmt.Errorf("unknown format %q (want %s or %s)", format, FormatV5, FormatGhsync)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode %s snapshot: %w", format, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// decode parses a stored snapshot body (gzip or plain JSON) written in
// format. It returns the JSON bytes and the commits; a body in the other
// format yields no commits (everything is fetched again).
func decode(format string, body []byte) (raw []byte, commits []*Commit, err error) {
	raw = body
	if len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, nil, fmt.Errorf("gunzip: %w", err)
		}
		raw, err = io.ReadAll(io.LimitReader(zr, 256<<20))
		if err != nil {
			return nil, nil, fmt.Errorf("gunzip: %w", err)
		}
	}
	trimmed := strings.TrimSpace(string(raw))
	switch {
	case format == FormatV5 && strings.HasPrefix(trimmed, "["):
		var list []*Commit
		if err := json.Unmarshal(raw, &list); err != nil {
			return raw, nil, fmt.Errorf("parse v5 snapshot: %w", err)
		}
		return raw, list, nil
	case format == FormatGhsync && strings.HasPrefix(trimmed, "{"):
		var doc ghsyncDoc
		if err := json.Unmarshal(raw, &doc); err != nil {
			return raw, nil, fmt.Errorf("parse ghsync snapshot: %w", err)
		}
		out := make([]*Commit, len(doc.Commits))
		for i := range doc.Commits {
			c := doc.Commits[i]
			c.Counts = nil
			out[i] = &c
		}
		return raw, out, nil
	}
	return raw, nil, nil
}

// gz compresses b deterministically (no name, no modification time).
func gz(b []byte) ([]byte, error) {
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return out.Bytes(), nil
}

// Snapshot is a parsed snapshot object of either format.
type Snapshot struct {
	// Format is FormatV5 or FormatGhsync.
	Format string
	// Repo and Branch are set for the ghsync format only.
	Repo, Branch string
	// Commits are newest first.
	Commits []Commit
}

// Parse reads a stored snapshot body (gzip-compressed or plain JSON) of
// either format.
func Parse(body []byte) (*Snapshot, error) {
	for _, f := range []string{FormatV5, FormatGhsync} {
		raw, commits, err := decode(f, body)
		if err != nil {
			return nil, err
		}
		if commits == nil {
			if t := strings.TrimSpace(string(raw)); (f == FormatV5 && strings.HasPrefix(t, "[")) || (f == FormatGhsync && strings.HasPrefix(t, "{")) {
				return &Snapshot{Format: f}, nil // empty list
			}
			continue
		}
		s := &Snapshot{Format: f, Commits: make([]Commit, len(commits))}
		for i, c := range commits {
			s.Commits[i] = *c
		}
		if f == FormatGhsync {
			var doc ghsyncDoc
			if err := json.Unmarshal(raw, &doc); err == nil {
				s.Repo, s.Branch = doc.Repo, doc.Branch
			}
		}
		return s, nil
	}
	return nil, fmt.Errorf("not a status snapshot (neither a v5 array nor a ghsync object)")
}

// Settled reports whether a run at now would fetch none of s's commits
// again: every job of every commit has concluded, and a commit without
// jobs was authored at least settle ago (0 means DefaultSettle). With the
// branch head unchanged, such a snapshot is what a run would write.
func (s *Snapshot) Settled(now time.Time, settle time.Duration) bool {
	if settle <= 0 {
		settle = DefaultSettle
	}
	for i := range s.Commits {
		if !settled(&s.Commits[i], now, settle) {
			return false
		}
	}
	return true
}
