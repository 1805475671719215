package lambda

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/statuses"
)

// legacyEvent is the original status Lambda's EventBridge input:
// {"branches": "main,release/2.0", "user": "acme", "repo": "app", "history_size": 100}.
// history_size may be a number or a string; branches a comma-separated
// string or a list.
type legacyEvent struct {
	Branches    json.RawMessage `json:"branches"`
	User        string          `json:"user"`
	Repo        string          `json:"repo"`
	HistorySize json.RawMessage `json:"history_size"`
}

var legacyRepoRE = sync.OnceValue(func() *regexp.Regexp { // compiled on first use, not at init
	return regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)
})

// FromLegacy builds the statuses job the original status Lambda would have
// run from its environment (bucket, branches, user, repo, history_size; read
// through getenv) and its event JSON (may be empty or "{}"): event fields
// override the environment's. The job is named name and writes v5 to
// s3://BUCKET/. GitHub credentials are not part of the job; config.Legacy
// and github.ConfigFromEnv read them from the same environment. Problems are
// *config.Error values naming the variable ("environment") or the event
// field ("event").
func FromLegacy(name string, getenv func(string) string, event []byte) (*config.Job, error) {
	l := config.Legacy(getenv)
	if err := applyLegacyEvent(&l, event); err != nil {
		return nil, err
	}
	job, err := legacyStatusesJob(name, l)
	if err != nil {
		return nil, fmt.Errorf("legacy status Lambda input: %w", err)
	}
	return job, nil
}

// applyLegacyEvent overrides l with the event's fields.
func applyLegacyEvent(l *config.LegacyEnv, event []byte) error {
	ev := bytes.TrimSpace(event)
	if len(ev) == 0 || string(ev) == "null" {
		return nil
	}
	var e legacyEvent
	if err := json.Unmarshal(ev, &e); err != nil {
		return &config.Error{File: "event", Msg: fmt.Sprintf("not the status Lambda's event JSON: %v", err)}
	}
	if e.User != "" {
		l.User = e.User
	}
	if e.Repo != "" {
		l.Repo = e.Repo
	}
	if len(e.Branches) > 0 && string(e.Branches) != "null" {
		var s string
		var list []string
		switch {
		case json.Unmarshal(e.Branches, &s) == nil:
			list = strings.Split(s, ",")
		case json.Unmarshal(e.Branches, &list) == nil:
		default:
			return &config.Error{File: "event", Field: "branches", Msg: "want a comma-separated string or a list of strings"}
		}
		l.Branches = nil
		for _, b := range list {
			if b = strings.TrimSpace(b); b != "" {
				l.Branches = append(l.Branches, b)
			}
		}
	}
	if len(e.HistorySize) > 0 && string(e.HistorySize) != "null" {
		var n json.Number
		var s string
		switch {
		case json.Unmarshal(e.HistorySize, &n) == nil:
			l.HistorySize = n.String()
		case json.Unmarshal(e.HistorySize, &s) == nil:
			l.HistorySize = strings.TrimSpace(s)
		default:
			return &config.Error{File: "event", Field: "history_size", Msg: "want a number"}
		}
		if _, err := strconv.Atoi(l.HistorySize); err != nil {
			return &config.Error{File: "event", Field: "history_size", Msg: fmt.Sprintf("want a whole number (got %s)", l.HistorySize)}
		}
	}
	return nil
}

// legacyStatusesJob builds the job from the legacy variables, reporting
// every problem at once.
func legacyStatusesJob(name string, l config.LegacyEnv) (*config.Job, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &config.Error{File: "environment", Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if l.User == "" {
		bad("user", "is required")
	}
	if l.Repo == "" {
		bad("repo", "is required")
	}
	if len(l.Branches) == 0 {
		bad("branches", "at least one branch is required")
	}
	if l.Bucket == "" {
		bad("bucket", "is required")
	}
	size := statuses.DefaultHistorySize
	if l.HistorySize != "" {
		n, err := strconv.Atoi(l.HistorySize)
		if err != nil || n < 1 || n > 1000 {
			bad("history_size", "must be an integer between 1 and 1000 (got %q)", config.Truncate(l.HistorySize, 20))
		}
		size = n
	}
	if l.User != "" && l.Repo != "" && !legacyRepoRE().MatchString(l.User+"/"+l.Repo) {
		bad("repo", "user/repo must form OWNER/REPO (got %q)", config.Truncate(l.User+"/"+l.Repo, 60))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &config.Job{
		Name:   name,
		Kind:   jobs.KindStatuses,
		Alerts: []config.Level{config.LevelError, config.LevelChange},
		Settings: &jobs.StatusesSettings{
			Repo:        l.User + "/" + l.Repo,
			Branches:    l.Branches,
			HistorySize: size,
			Dest:        "s3://" + l.Bucket + "/",
			Format:      statuses.FormatV5,
		},
	}, nil
}
