package ui_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/inbox"
	"github.com/ghsync/ghsync/internal/scheduler"
)

// TestInboxRunPage: an inbox run shows each upload set's report — files,
// validity, errors, the issue link and the actions taken.
func TestInboxRunPage(t *testing.T) {
	rows := 120
	pr := &inbox.PollResult{Job: "uploads", Sets: 2, Unchanged: 1, Processed: []*inbox.Result{{
		Job: "uploads", Prefix: "E07000223/2026-05-07/1700000000/", Passed: false,
		Report: &inbox.Report{Prefix: "E07000223/2026-05-07/1700000000/", GitHubIssue: "https://github.com/acme/data/issues/7",
			Files: []inbox.FileReport{
				{Key: "stations.csv", Valid: true, Rows: &rows, Encoding: "utf-8", Delimiter: ",", Profile: "Xpress DC", Errors: []string{}},
				{Key: "districts.csv", Valid: false, Encoding: "windows-1252", Errors: []string{"Incorrect number of columns"}},
			}},
		Actions: []inbox.ActionResult{
			{Action: inbox.ActionGitHub, Status: inbox.StatusDone, Target: "acme/data", Detail: "created #7"},
			{Action: "callback", Status: "failed", Target: "https://wdiv.example/api", Error: "503 Service Unavailable"},
		},
		Errors: []string{"callback: 503 Service Unavailable"},
	}}}
	body := inboxRunPage(t, pr)
	mustContain(t, "inbox run", body,
		"<dd class=\"summary\">1 sets processed, 1 unchanged</dd>",
		"Upload set <code>E07000223/2026-05-07/1700000000/</code>: failed",
		`<a href="https://github.com/acme/data/issues/7">`,
		"<th scope=\"row\">stations.csv</th><td>yes</td><td>120</td><td>utf-8</td>",
		"<th scope=\"row\">districts.csv</th><td>no</td><td>-</td><td>windows-1252</td>", "Incorrect number of columns",
		"<th scope=\"row\">github</th><td>done</td><td>acme/data</td><td>created #7</td>",
		"503 Service Unavailable")
}

// TestInboxRunPageShowsRetriesAndGivingUp: a set whose actions failed says
// they are retried on the next run; one given up on says so and which
// actions, also when a later poll skips it as unchanged.
func TestInboxRunPageShowsRetriesAndGivingUp(t *testing.T) {
	pr := &inbox.PollResult{Job: "uploads", Sets: 3, Processed: []*inbox.Result{
		{Job: "uploads", Prefix: "A/", Passed: true, Attempt: 1, FailedActions: []string{"callback"}},
		{Job: "uploads", Prefix: "B/", Passed: false, Attempt: 10, FailedActions: []string{"email"}, GaveUp: true},
		{Job: "uploads", Prefix: "C/", Skipped: true, Attempt: 10, FailedActions: []string{"callback"}, GaveUp: true},
	}}
	body := inboxRunPage(t, pr)
	mustContain(t, "inbox run", body,
		"Upload set <code>A/</code>: passed; actions to retry on the next run: callback",
		"Upload set <code>B/</code>: failed; given up after 10 attempts: email",
		"Upload set <code>C/</code>: unchanged; failed actions given up on: callback")
}

// inboxRunPage seeds a failed run of job "uploads" with pr as its summary
// and returns the run's page.
func inboxRunPage(t *testing.T, pr *inbox.PollResult) string {
	t.Helper()
	d := dbtest.SQLite(t)
	raw, err := json.Marshal(pr)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	id := seedRun(t, d, scheduler.Run{Job: "uploads", StartedAt: now.Add(-time.Minute), FinishedAt: now,
		Outcome: scheduler.OutcomeFailed, Summary: raw, Error: "callback failed", Replica: "host-1"})
	code, body := get(t, newUI(t, d, nil), fmt.Sprintf("/ui/jobs/uploads/runs/%d", id))
	if code != http.StatusOK {
		t.Fatalf("GET run: %d\n%s", code, body)
	}
	return body
}
