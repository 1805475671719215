package statuses

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ghsync/ghsync/internal/config"
)

// legacyEvent is the original Lambda's EventBridge input:
// {"branches": "main,release/2.0", "user": "acme", "repo": "app", "history_size": 100}.
// history_size may be a number or a string; branches a comma-separated
// string or a list.
type legacyEvent struct {
	Branches    json.RawMessage `json:"branches"`
	User        string          `json:"user"`
	Repo        string          `json:"repo"`
	HistorySize json.RawMessage `json:"history_size"`
}

// FromLegacy builds the statuses job the original Lambda would have run
// from its environment (app_id, private_key, bucket, branches, user, repo,
// history_size; read through getenv) and its event JSON (may be empty or
// "{}"): event fields override the environment's. The job writes v5 to
// s3://BUCKET/. GitHub credentials are not part of the job; config.Legacy
// and github.ConfigFromEnv read them from the same environment.
func FromLegacy(getenv func(string) string, event []byte) (*config.Job, error) {
	l := config.Legacy(getenv)
	if ev := bytes.TrimSpace(event); len(ev) > 0 && string(ev) != "null" {
		var e legacyEvent
		if err := json.Unmarshal(ev, &e); err != nil {
			return nil, &config.Error{File: "event", Msg: fmt.Sprintf("not the status Lambda's event JSON: %v", err)}
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
				return nil, &config.Error{File: "event", Field: "branches", Msg: "want a comma-separated string or a list of strings"}
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
				return nil, &config.Error{File: "event", Field: "history_size", Msg: "want a number"}
			}
			if _, err := strconv.Atoi(l.HistorySize); err != nil {
				return nil, &config.Error{File: "event", Field: "history_size", Msg: fmt.Sprintf("want a whole number (got %s)", l.HistorySize)}
			}
		}
	}
	job, err := l.StatusesJob("statuses")
	if err != nil {
		return nil, fmt.Errorf("legacy status Lambda input: %w", err)
	}
	return job, nil
}
