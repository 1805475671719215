package ui_test

// Issue 18, items 11–14: the UI shows every job as users think of it.
// These are the handler-level (plain HTTP) halves; browser_pages_test.go
// renders the same seeded database in Chromium and takes the screenshots.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/inbox"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/scheduler"
	"github.com/ghsync/ghsync/internal/ui"
	"github.com/ghsync/ghsync/internal/webhooks"
)

// firstDayConfig has one job of each kind users run: a repo sync with the
// settings that shape it, an inbox, an Airtable sync and a statuses job.
func firstDayConfig(t testing.TB, hudDir string) *config.Config {
	t.Helper()
	y := `
jobs:
  - name: site
    kind: repo
    source: github:acme/site@main
    dest: file:///srv/site
    schedule: rate(5 minutes)
    include: ['^public/']
    exclude: ['\.map$']
    cache_control:
      "*.html": no-cache
      "assets/**": max-age=31536000
  - name: uploads
    kind: inbox
    watch: file:///srv/inbox
    final: file:///srv/final
    format: wdiv
    poll: 1m
  - name: assessments
    kind: airtable
    base: appXXXXXXXXXXXXXX
    table: Assessments
    token: pat-secret-airtable-token
    target: assessment
    key: id
    database: sqlite:///srv/brn.db
  - name: hud
    kind: statuses
    repo: acme/app
    branches: [main]
    dest: file://` + hudDir + `
`
	c, err := jobs.ParseConfig([]byte(y), "firstday.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// firstDay is what seedFirstDay wrote.
type firstDay struct {
	siteFailed, siteRunning, airtable, inboxRun, hudFailed int64
}

// longErr is a failed run's error chain: long, on several lines.
const longErr = "sync site: put public/index.html to file:///srv/site: write /srv/site/public/index.html.ghsync-tmp: no space left on device (the destination's file system is full; free space or move dest)\n" +
	"caused by: write /srv/site/public/index.html.ghsync-tmp: no space left on device"

// seedFirstDay writes the history of firstDayConfig's jobs.
func seedFirstDay(t testing.TB, d *db.DB, at time.Time) firstDay {
	t.Helper()
	var s firstDay
	repoSum, _ := json.Marshal(map[string]any{"source": "github:acme/site@main", "dest": "file:///srv/site", "commit": "abc1234",
		"new": 3, "modified": 1, "deleted": 0, "unchanged": 40, "dry_run": false, "duration_ms": 12500,
		"paths": map[string]any{"new": []string{"public/index.html", "public/a.css", "public/b.js"}, "modified": []string{"public/about.html"}}})
	seedRun(t, d, scheduler.Run{Job: "site", QueueJobID: 9, Attempt: 1, StartedAt: at.Add(-3 * time.Hour),
		FinishedAt: at.Add(-3*time.Hour + 12500*time.Millisecond), Outcome: scheduler.OutcomeOK, Summary: repoSum, Replica: "host-1"})
	s.siteFailed = seedRun(t, d, scheduler.Run{Job: "site", QueueJobID: 10, Attempt: 2, StartedAt: at.Add(-time.Hour),
		FinishedAt: at.Add(-time.Hour + 3*time.Second), Outcome: scheduler.OutcomeFailed, Error: longErr, Replica: "host-1"})
	s.siteRunning = seedRun(t, d, scheduler.Run{Job: "site", QueueJobID: 11, Attempt: 1, StartedAt: at.Add(-3 * time.Minute),
		Outcome: scheduler.OutcomeRunning, Replica: "host-2"})

	apiSum, _ := json.Marshal(map[string]any{"kind": "airtable", "pages": 3, "requests": 4, "rate_limited": 0, "statements": 12, "duration_ms": 2300,
		"tables": map[string]any{
			"assessment":     map[string]any{"records": 250, "inserted": 10, "updated": 2, "unchanged": 238, "deleted": 0, "added_columns": []string{"score"}},
			"assessment_tag": map[string]any{"records": 31, "inserted": 0, "updated": 0, "unchanged": 30, "deleted": 1},
		}})
	s.airtable = seedRun(t, d, scheduler.Run{Job: "assessments", QueueJobID: 12, Attempt: 1, StartedAt: at.Add(-20 * time.Minute),
		FinishedAt: at.Add(-20*time.Minute + 2300*time.Millisecond), Outcome: scheduler.OutcomeOK, Summary: apiSum, Replica: "host-1"})

	rows := 120
	pr := &inbox.PollResult{Job: "uploads", Sets: 3, Unchanged: 0, Processed: []*inbox.Result{
		{Job: "uploads", Prefix: "E07000223/2026-05-07/1700000000/", Passed: false, Attempt: 1,
			Report: &inbox.Report{Prefix: "E07000223/2026-05-07/1700000000/", GitHubIssue: "https://github.com/acme/data/issues/7",
				Files: []inbox.FileReport{
					{Key: "stations.csv", Valid: true, Rows: &rows, Encoding: "utf-8", Delimiter: ",", Profile: "Xpress DC", Errors: []string{}},
					{Key: "districts.csv", Valid: false, Encoding: "windows-1252", Errors: []string{"Incorrect number of columns on line 4"}},
				}},
			Document: json.RawMessage(`{"gss":"E07000223","file_set":[{"key":"stations.csv"},{"key":"districts.csv"}],"github_issue":"https://github.com/acme/data/issues/7"}`),
			Actions: []inbox.ActionResult{
				{Action: inbox.ActionGitHub, Status: inbox.StatusDone, Target: "acme/data", Detail: "created #7"},
				{Action: "email", Status: inbox.StatusNoCredential, Detail: "no SES credentials: not performed"},
			}},
		{Job: "uploads", Prefix: "E07000224/2026-05-07/1700000100/", Passed: true, Attempt: 2, FailedActions: []string{"callback"},
			Report: &inbox.Report{Prefix: "E07000224/2026-05-07/1700000100/", Files: []inbox.FileReport{
				{Key: "stations.csv", Valid: true, Rows: &rows, Encoding: "utf-8", Delimiter: ",", Errors: []string{}}}},
			Actions: []inbox.ActionResult{
				{Action: "copy", Status: inbox.StatusDone, Target: "file:///srv/final/E07000224/"},
				{Action: "callback", Status: inbox.StatusFailed, Target: "https://wdiv.example/api", Error: "503 Service Unavailable"},
			},
			Errors: []string{"callback: 503 Service Unavailable"}},
		{Job: "uploads", Prefix: "E07000225/2026-05-06/1699990000/", Passed: true, Attempt: 1,
			Report: &inbox.Report{Prefix: "E07000225/2026-05-06/1699990000/", Files: []inbox.FileReport{
				{Key: "stations.csv", Valid: true, Rows: &rows, Encoding: "utf-8", Delimiter: ",", Errors: []string{}}}},
			Actions: []inbox.ActionResult{{Action: "copy", Status: inbox.StatusDone, Target: "file:///srv/final/E07000225/"}}},
	}}
	raw, err := json.Marshal(pr)
	if err != nil {
		t.Fatal(err)
	}
	s.inboxRun = seedRun(t, d, scheduler.Run{Job: "uploads", QueueJobID: 13, Attempt: 1, StartedAt: at.Add(-5 * time.Minute),
		FinishedAt: at.Add(-5*time.Minute + 900*time.Millisecond), Outcome: scheduler.OutcomeFailed, Summary: raw,
		Error: "1 upload set failed its checks; 1 action to retry", Replica: "host-1"})

	s.hudFailed = seedRun(t, d, scheduler.Run{Job: "hud", QueueJobID: 14, Attempt: 3, StartedAt: at.Add(-2 * time.Minute),
		FinishedAt: at.Add(-2*time.Minute + time.Second), Outcome: scheduler.OutcomeFailed, Replica: "host-1",
		Error: "statuses acme/app main: GET https://api.github.com/repos/acme/app/commits?sha=main: 401 Bad credentials (set github.token)"})
	return s
}

// firstDayUI is the handler over a seeded database, with the HUD when hud
// is set.
func firstDayUI(t testing.TB, d *db.DB, hudDir string, hud http.Handler) http.Handler {
	t.Helper()
	h, err := ui.New(ui.Options{Config: firstDayConfig(t, hudDir), DB: d, HUD: hud, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Item 13: errors are one line in the runs tables and whole on the run
// page; a running run says "still running"; one run numbering; human
// labels for figures; every setting on the job page; "Metrics" explains.
func TestRunsTablesReadAsUsersThinkOfThem(t *testing.T) {
	d := dbtest.SQLite(t)
	s := seedFirstDay(t, d, now)
	h := firstDayUI(t, d, t.TempDir(), nil)

	_, jobsBody := get(t, h, "/ui/")
	_, jobBody := get(t, h, "/ui/jobs/site")
	for what, body := range map[string]string{"jobs page": jobsBody, "job page": jobBody} {
		// The failed run's error chain is not spilled into the table: one
		// line, shortened, the rest on the run page.
		mustNotContain(t, what, body, ">caused by:", "device\ncaused by")
		mustContain(t, what, body, "still running")
	}
	mustContain(t, "job page", jobBody, "sync site: put public/index.html to file:///srv/site: write", "…</span>",
		"still running, for 3 min", "retry 1 (try 2)", "first try")
	if strings.Contains(jobBody, ">running<") {
		t.Errorf("the job page shows the bare word running")
	}

	// The job page shows every setting that shapes the run.
	mustContain(t, "job page settings", jobBody, `id="all-settings"`, "<code>include</code>", "^public/", "<code>exclude</code>",
		`\.map$`, "<code>cache_control</code>", "*.html → no-cache; assets/** → max-age=31536000")

	// The run page: the whole chain, one numbering (no queue job id).
	_, runBody := get(t, h, fmt.Sprintf("/ui/jobs/site/runs/%d", s.siteFailed))
	mustContain(t, "failed run page", runBody, "caused by: write /srv/site/public/index.html.ghsync-tmp: no space left on device",
		"<dt>Try</dt><dd>retry 1 (try 2)</dd>")
	mustNotContain(t, "failed run page", runBody, "queue job")

	// Figures have human labels.
	_, apiRun := get(t, h, fmt.Sprintf("/ui/jobs/assessments/runs/%d", s.airtable))
	mustContain(t, "api run figures", apiRun, `<th scope="row">Duration</th><td>2.3s</td>`, `<th scope="row">HTTP requests</th><td>4</td>`)
	mustNotContain(t, "api run figures", apiRun, `<th scope="row">duration_ms</th>`, `<th scope="row">rate_limited</th>`)

	// "Metrics" opens a page that explains /metrics.
	mustContain(t, "navigation", jobsBody, `<a href="/ui/metrics">Metrics</a>`)
	code, metrics := get(t, h, "/ui/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /ui/metrics: %d", code)
	}
	mustContain(t, "metrics page", metrics, "<h1>Metrics</h1>", "Prometheus", "scrape_configs", `href="/metrics"`)
}

// Item 14: an API sync job shows its last counts per table.
func TestAPISyncJobShowsLastCountsPerTable(t *testing.T) {
	d := dbtest.SQLite(t)
	s := seedFirstDay(t, d, now)
	h := firstDayUI(t, d, t.TempDir(), nil)
	_, body := get(t, h, "/ui/jobs/assessments")
	mustContain(t, "airtable job page", body, `id="last-tables"`, fmt.Sprintf(">#%d</a>", s.airtable),
		`<th scope="row"><code>assessment</code></th><td>250</td><td>10</td><td>2</td><td>238</td><td>0</td><td>columns added: <code>score</code></td>`,
		`<th scope="row"><code>assessment_tag</code></th><td>31</td><td>0</td><td>0</td><td>30</td><td>1</td>`,
		"10 inserted, 2 updated, 1 deleted in 2 tables")
	// Credentials are not shown at all, not even masked.
	mustNotContain(t, "airtable job page", body, "pat-secret-airtable-token", "<code>token</code>", "xxxxx")
	mustContain(t, "airtable job page", body, "<code>base</code>", "<code>target</code>", "<code>delete_missing</code></th><td><code>no</code>")
}

// Item 11: the inbox page lists every set, failing ones first and marked;
// the set page has files, validity, per-file errors, actions done / to
// retry, the issue link and the report.
func TestInboxPages(t *testing.T) {
	d := dbtest.SQLite(t)
	seedFirstDay(t, d, now)
	h := firstDayUI(t, d, t.TempDir(), nil)
	_, jobs := get(t, h, "/ui/")
	mustContain(t, "navigation", jobs, `<a href="/ui/inbox">Inbox</a>`)
	code, body := get(t, h, "/ui/inbox")
	if code != http.StatusOK {
		t.Fatalf("GET /ui/inbox: %d\n%s", code, body)
	}
	states := regexp.MustCompile(`<tr class="set st-row-([a-z-]+)" data-state="[a-z-]+">\s*<th scope="row"><a href="([^"]+)">`).FindAllStringSubmatch(body, -1)
	var got []string
	for _, m := range states {
		got = append(got, m[1]+" "+m[2])
	}
	want := []string{
		"failed /ui/inbox/uploads/E07000223/2026-05-07/1700000000/",
		"retrying /ui/inbox/uploads/E07000224/2026-05-07/1700000100/",
		"passed /ui/inbox/uploads/E07000225/2026-05-06/1699990000/",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("inbox sets, worst first:\n got %q\nwant %q", got, want)
	}
	mustContain(t, "inbox page", body, "2 need attention", `<span class="bad">(1 invalid)</span>`, "<code>callback</code>",
		`<a href="https://github.com/acme/data/issues/7" title="https://github.com/acme/data/issues/7">acme/data#7</a>`)

	code, set := get(t, h, "/ui/inbox/uploads/E07000223/2026-05-07/1700000000/")
	if code != http.StatusOK {
		t.Fatalf("GET set: %d\n%s", code, set)
	}
	mustContain(t, "failed set page", set, `class="verdict st-box-failed"`, "checks failed",
		`<tr class="file-bad"><th scope="row"><code>districts.csv</code></th><td><span class="bad">✗ invalid</span>`,
		`<div class="bad">Incorrect number of columns on line 4</div>`, `<tr class="file-ok"><th scope="row"><code>stations.csv</code>`,
		`id="issue">https://github.com/acme/data/issues/7</a>`, `<h3 class="acts-passed">Done</h3>`, "created #7",
		"Not performed", `<pre id="report">`, `&#34;gss&#34;: &#34;E07000223&#34;`)
	_, retry := get(t, h, "/ui/inbox/uploads/E07000224/2026-05-07/1700000100/")
	mustContain(t, "retrying set page", retry, `class="verdict st-box-retrying"`, "To retry on the next run", "503 Service Unavailable")
	if code, _ := get(t, h, "/ui/inbox/uploads/nope/"); code != http.StatusNotFound {
		t.Errorf("unknown set: %d, want 404", code)
	}
}

// Item 11: sets the ledger records (given up) show with that state even
// when the run that processed them is no longer in the newest history.
func TestInboxPageReadsTheLedger(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		seedFirstDay(t, d, now)
		ctx := t.Context()
		if err := inbox.Migrate(ctx, d); err != nil {
			t.Fatal(err)
		}
		l := inbox.DBLedger{DB: d}
		if err := l.Put(ctx, "uploads", "E09000001/2026-04-01/1690000000/", inbox.LedgerRecord{Fingerprint: "x", Passed: true, Files: 1,
			At: now.Add(-48 * time.Hour), Complete: true, Attempts: 10, Done: []string{"copy"}, Failed: []string{"email"}}, nil); err != nil {
			t.Fatal(err)
		}
		h := firstDayUI(t, d, t.TempDir(), nil)
		_, body := get(t, h, "/ui/inbox")
		mustContain(t, "inbox page", body, `<tr class="set st-row-gave-up" data-state="gave-up">`, "E09000001/2026-04-01/1690000000/", "actions given up")
		_, set := get(t, h, "/ui/inbox/uploads/E09000001/2026-04-01/1690000000/")
		mustContain(t, "given-up set page", set, `class="verdict st-box-gave-up"`, "tried 10 times")
	})
}

// seedWebhookFailures seeds deliveries (two push, one issues, one
// workflow_job) and records a projection failure on the workflow_job one
// and on one push (processed since), and a failed log download.
func seedWebhookFailures(t testing.TB, d *db.DB, at time.Time) {
	t.Helper()
	seedDeliveries(t, d,
		[3]string{"push", "p-1", `{"ref":"refs/heads/main","repository":{"full_name":"acme/site"}}`},
		[3]string{"push", "p-2", `{"ref":"refs/heads/dev","repository":{"full_name":"acme/site"}}`},
		[3]string{"issues", "i-1", `{"action":"opened","issue":{"number":1},"repository":{"full_name":"acme/app"}}`},
		[3]string{"workflow_job", "w-1", `{"action":"completed","workflow_job":{"id":77},"repository":{"full_name":"acme/app"}}`},
	)
	ctx := t.Context()
	if _, err := d.W.ExecContext(ctx, d.Rebind(`UPDATE deliveries SET attempts = 3, last_error = ? WHERE delivery_id = 'w-1'`),
		"project workflow_job: insert workflow_job: database is locked\ncaused by: SQLITE_BUSY"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.W.ExecContext(ctx, d.Rebind(`UPDATE deliveries SET attempts = 2, last_error = ? WHERE delivery_id = 'p-1'`),
		"project push: context deadline exceeded"); err != nil {
		t.Fatal(err)
	}
	ts := db.FormatTime(at.Add(-10 * time.Minute))
	if _, err := d.W.ExecContext(ctx, d.Rebind(`INSERT INTO log_downloads (job_key, repo, job_id, conclusion, delivery_id, state, attempts,
		next_attempt_at, last_error, created_at) VALUES ('acme/app#77', 'acme/app', 77, 'failure', 'w-1', 'pending', 4, ?, ?, ?)`),
		ts, "download log of job 77: GET https://api.github.com/repos/acme/app/actions/jobs/77/logs: 404 Not Found", ts); err != nil {
		t.Fatal(err)
	}
}

// Item 14: the webhook page shows deliveries per event and the last
// failures of projections and log downloads.
func TestDeliveriesPageShowsPerEventAndFailures(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		seedWebhookFailures(t, d, time.Now())
		h := newUI(t, d, nil)
		code, body := get(t, h, "/ui/deliveries")
		if code != http.StatusOK {
			t.Fatalf("GET deliveries: %d\n%s", code, body)
		}
		counts := regexp.MustCompile(`(?s)<table class="data" id="event-counts">.*?</table>`).FindString(body)
		rows := regexp.MustCompile(`<tr[^>]*><th scope="row"><a href="\?event=([a-z_]+)">[a-z_]+</a></th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(?:<span class="bad">)?(\d+)`).FindAllStringSubmatch(counts, -1)
		var got []string
		for _, r := range rows {
			got = append(got, strings.Join(r[1:], " "))
		}
		// event received processed pending failing
		want := []string{"push 2 2 0 0", "issues 1 1 0 0", "workflow_job 1 0 0 1"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("deliveries per event: got %q, want %q", got, want)
		}
		proj := regexp.MustCompile(`(?s)id="projection-failures".*?</section>`).FindString(body)
		mustContain(t, "projection failures", proj, "<code>w-1</code>", "project workflow_job: insert workflow_job: database is locked …",
			"being retried", "<code>p-1</code>", "processed since")
		logs := regexp.MustCompile(`(?s)id="log-failures".*?</section>`).FindString(body)
		mustContain(t, "log failures", logs, "acme/app", "<td>77</td>", "<td>4</td>", "404 Not Found")
	})
}

// Item 12: the HUD is inside the app, and a statuses job that is
// configured but failing says so on the HUD page and links its run
// (instead of "No snapshots… Write some with `ghsync statuses`").
func TestHUDPageSaysTheStatusesJobFails(t *testing.T) {
	d := dbtest.SQLite(t)
	dir := t.TempDir()
	s := seedFirstDay(t, d, now)
	h, closeFn, err := ui.ForConfig(t.Context(), firstDayConfig(t, dir), ui.Options{DB: d})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	code, body := get(t, h, "/ui/hud/")
	if code != http.StatusOK {
		t.Fatalf("GET /ui/hud/: %d\n%s", code, body)
	}
	mustContain(t, "HUD page", body, `<a href="/ui/hud/" aria-current="page">Status HUD</a>`, `href="/ui/assets/ui.css"`,
		"The statuses job <a href=\"/ui/jobs/hud\">hud</a> did not write its snapshots",
		fmt.Sprintf(`<a href="/ui/jobs/hud/runs/%d">#%d</a> failed`, s.hudFailed, s.hudFailed), "401 Bad credentials")
	mustNotContain(t, "HUD page", body, "Write some with")
}

// webhookMetrics is a registry holding the real webhook receiver's metrics
// after it received and processed one push delivery ("m-1") into d.
func webhookMetrics(t testing.TB, d *db.DB) *prometheus.Registry {
	t.Helper()
	ctx := t.Context()
	if err := webhooks.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	svc, err := webhooks.New(webhooks.Config{DB: d, InsecureNoSignature: true, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(ctx)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"ref":"refs/heads/main","repository":{"full_name":"acme/site"}}`))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", "m-1")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	svc.Handler().ServeHTTP(rec, req)
	if rec.Code/100 != 2 {
		t.Fatalf("post delivery: %d %s", rec.Code, rec.Body)
	}
	for {
		n, err := svc.ProcessPending(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return reg
		}
	}
}

// Item 13: the Metrics page lists what /metrics exposes, with help texts
// and current values, from the registry /metrics serves.
func TestMetricsPageListsTheMetrics(t *testing.T) {
	d := dbtest.SQLite(t)
	reg := webhookMetrics(t, d)
	h, err := ui.New(ui.Options{DB: d, Metrics: reg, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, h, "/ui/metrics")
	mustContain(t, "metrics page", body, `<table class="data" id="metrics">`,
		`<th scope="row"><code>ghsync_webhook_deliveries_total</code></th><td>counter</td>`)
	row := regexp.MustCompile(`(?s)<tr><th scope="row"><code>ghsync_webhook_deliveries_total</code></th>.*?</tr>`).FindString(body)
	if !regexp.MustCompile(`<td>[1-9]\d*</td><td></td></tr>$`).MatchString(row) {
		t.Errorf("deliveries counter row lacks its series count: %s", row)
	}
}

// Item 11: an inbox run's page links each set to its page.
func TestInboxRunLinksTheSetPages(t *testing.T) {
	d := dbtest.SQLite(t)
	s := seedFirstDay(t, d, now)
	h := firstDayUI(t, d, t.TempDir(), nil)
	_, body := get(t, h, fmt.Sprintf("/ui/jobs/uploads/runs/%d", s.inboxRun))
	for _, m := range regexp.MustCompile(`<a href="(/ui/inbox/uploads/[^"]+)">The set's page</a>`).FindAllStringSubmatch(body, -1) {
		if code, page := get(t, h, m[1]); code != http.StatusOK || !strings.Contains(page, `id="verdict"`) {
			t.Errorf("%s: %d", m[1], code)
		}
	}
	if n := strings.Count(body, "The set's page"); n != 3 {
		t.Errorf("%d set links on the inbox run's page, want 3", n)
	}
}
