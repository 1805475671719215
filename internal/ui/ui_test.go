package ui_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/scheduler"
	"github.com/ghsync/ghsync/internal/ui"
)

// secrets are values of testConfig (and seeded data) that must never be
// rendered.
var secrets = []string{"ghp_supersecrettoken123", "dbpassw0rd", "whsec-very-secret", "AKIAXXXX", "hunter2"}

// seeded is the history the page tests share.
type seeded struct {
	siteOK, siteFailed, siteSkipped, oldJob, evil int64
}

func seedHistory(t *testing.T, d *db.DB) seeded {
	t.Helper()
	var s seeded
	sum := map[string]any{"source": "github:acme/site", "dest": "s3://bucket/site?access_key=AKIAXXXX", "commit": "abc123",
		"new": 3, "modified": 1, "deleted": 0, "unchanged": 40, "dry_run": false, "duration_ms": 12500,
		"paths": map[string]any{"new": []string{"index.html", "a/b.css", "<img src=x onerror=alert(1)>.html"}, "modified": []string{"about.html"}}}
	raw, _ := json.Marshal(sum)
	s.siteFailed = seedRun(t, d, scheduler.Run{Job: "site", QueueJobID: 7, Attempt: 1, StartedAt: now.Add(-2 * time.Hour),
		FinishedAt: now.Add(-2*time.Hour + 3*time.Second), Outcome: scheduler.OutcomeFailed, Replica: "host-1",
		Error: "put index.html: https://admin:hunter2@minio.local/bucket: 503 Service Unavailable"})
	s.siteOK = seedRun(t, d, scheduler.Run{Job: "site", QueueJobID: 8, Attempt: 1, ScheduledAt: now.Add(-10 * time.Minute),
		StartedAt: now.Add(-10 * time.Minute), FinishedAt: now.Add(-10*time.Minute + 12500*time.Millisecond),
		Outcome: scheduler.OutcomeOK, Summary: raw, Replica: "host-1"})
	s.siteSkipped = seedRun(t, d, scheduler.Run{Job: "site", StartedAt: now.Add(-5 * time.Minute), FinishedAt: now.Add(-5 * time.Minute),
		Outcome: scheduler.OutcomeSkipped, Error: "still running", Replica: "host-2"})
	s.oldJob = seedRun(t, d, scheduler.Run{Job: "old-job", StartedAt: now.Add(-72 * time.Hour), FinishedAt: now.Add(-72*time.Hour + time.Second),
		Outcome: scheduler.OutcomeOK, Summary: json.RawMessage(`{"branches_written":2,"branches_unchanged":1,"branches_failed":0,
		"branches":[{"branch":"main","key":"acme/app/main.json","head":"deadbeef","commits":100,"fetched":3,"result":"written"}]}`)})
	s.evil = seedRun(t, d, scheduler.Run{Job: `x"><script>alert(1)</script>`, StartedAt: now.Add(-time.Minute),
		Outcome: scheduler.OutcomeRunning})
	return s
}

func newUI(t *testing.T, d *db.DB, hud http.Handler) http.Handler {
	t.Helper()
	h, err := ui.New(ui.Options{Config: testConfig(t), DB: d, HUD: hud, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// rowOf returns the <tr> of the jobs table for job.
func rowOf(t *testing.T, body, job string) string {
	t.Helper()
	re := regexp.MustCompile(`(?s)<tr class="job" data-job="` + regexp.QuoteMeta(job) + `">.*?</tr>`)
	m := re.FindString(body)
	if m == "" {
		t.Fatalf("no row for job %q in the jobs table", job)
	}
	return m
}

func TestJobsPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := seedHistory(t, d)
		h := newUI(t, d, nil)
		code, body := get(t, h, "/ui/")
		if code != http.StatusOK {
			t.Fatalf("GET /ui/: %d\n%s", code, body)
		}
		mustContain(t, "jobs page", body, `<table class="data" id="jobs">`, `<th scope="col">Last run</th>`, "from test.yaml")
		// The configured jobs come first, in file order, then history-only jobs by name.
		order := regexp.MustCompile(`data-job="([^"]*)"`).FindAllStringSubmatch(body, -1)
		var names []string
		for _, m := range order {
			names = append(names, m[1])
		}
		want := []string{"site", "hud", "old-job", "x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"}
		if strings.Join(names, "|") != strings.Join(want, "|") {
			t.Errorf("job rows %q, want %q", names, want)
		}
		// site: its last run is the OK one (the later skipped tick does not count).
		site := rowOf(t, body, "site")
		mustContain(t, "site row", site, "repo", "<code>rate(5 minutes)</code>", ">in 5 min<",
			fmt.Sprintf(`href="/ui/jobs/site/runs/%d"`, s.siteOK), "2026-11-22 11:50:00 UTC", "10 min ago",
			"<td>12.5s</td>", `<span class="outcome o-ok">ok</span>`, "3 new, 1 modified")
		mustContain(t, "hud row", rowOf(t, body, "hud"), "statuses", "manual", "never run")
		mustContain(t, "old-job row", rowOf(t, body, "old-job"), "not in the configuration", "2 branches written, 1 unchanged", "3 days ago")
		evil := rowOf(t, body, "x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;")
		mustContain(t, "history-only job with a hostile name", evil, `o-running`,
			`href="/ui/jobs/x%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E"`)
		mustNotContain(t, "jobs page", body, append(secrets, "<script>")...)
	})
}

func TestJobPage(t *testing.T) {
	d := dbtest.SQLite(t)
	s := seedHistory(t, d)
	h := newUI(t, d, nil)
	code, body := get(t, h, "/ui/jobs/site")
	if code != http.StatusOK {
		t.Fatalf("GET job: %d\n%s", code, body)
	}
	// Settings, with the destination's credentials redacted.
	mustContain(t, "job page", body, "<h1>Job site</h1>", "github:acme/site@main", "s3://bucket/site?", "REDACTED", "managed")
	// Every run (skipped ticks too), newest first, each linking to its detail.
	runs := regexp.MustCompile(`<tr class="run" data-outcome="(\w+)">\s*<th scope="row"><a href="/ui/jobs/site/runs/(\d+)">`).FindAllStringSubmatch(body, -1)
	var got []string
	for _, m := range runs {
		got = append(got, m[1]+":"+m[2])
	}
	want := []string{fmt.Sprintf("skipped:%d", s.siteSkipped), fmt.Sprintf("ok:%d", s.siteOK), fmt.Sprintf("failed:%d", s.siteFailed)}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("runs %v, want %v", got, want)
	}
	mustContain(t, "job page", body, "still running", "3 new, 1 modified", "put index.html: https://REDACTED@minio.local/bucket: 503")
	mustNotContain(t, "job page", body, secrets...)

	// limit= pages the history.
	_, body = get(t, h, "/ui/jobs/site?limit=2")
	if n := strings.Count(body, `<tr class="run"`); n != 2 || !strings.Contains(body, `href="?limit=8"`) {
		t.Errorf("limit=2: %d rows, more link present=%v", n, strings.Contains(body, `href="?limit=8"`))
	}
	if code, _ := get(t, h, "/ui/jobs/site?limit=x"); code != http.StatusBadRequest {
		t.Errorf("limit=x: %d, want 400", code)
	}
	// A configured job without runs has a page; an unknown job does not.
	if code, body := get(t, h, "/ui/jobs/hud"); code != http.StatusOK || !strings.Contains(body, "has not run yet") || !strings.Contains(body, "acme/app") {
		t.Errorf("GET /ui/jobs/hud: %d", code)
	}
	if code, body := get(t, h, "/ui/jobs/nope"); code != http.StatusNotFound || !strings.Contains(body, "There is no job called") {
		t.Errorf("GET unknown job: %d", code)
	}
}

func TestRunPage(t *testing.T) {
	d := dbtest.SQLite(t)
	s := seedHistory(t, d)
	h := newUI(t, d, nil)

	code, body := get(t, h, fmt.Sprintf("/ui/jobs/site/runs/%d", s.siteOK))
	if code != http.StatusOK {
		t.Fatalf("GET run: %d\n%s", code, body)
	}
	mustContain(t, "ok run", body, fmt.Sprintf("<h1>Run #%d of site</h1>", s.siteOK), `<span class="outcome o-ok">ok</span>`,
		"<dd>12.5s</dd>", "2026-11-22 11:50:12 UTC", `<section aria-labelledby="changes-h" id="changes">`,
		"<h3>3 new</h3>", // the count equals the list: no "the first N listed" note
		"<li><code>index.html</code></li>", "<li><code>a/b.css</code></li>", "<h3>1 modified", "<li><code>about.html</code></li>",
		"<code>&lt;img src=x onerror=alert(1)&gt;.html</code>", // escaped, not markup
		"<th scope=\"row\">Unchanged</th><td>40</td>", "Full summary (JSON)")
	if strings.Contains(body, "deleted</h3>") {
		t.Error("a kind without paths is listed")
	}
	mustNotContain(t, "ok run", body, append(secrets, "<img src=x")...)

	_, body = get(t, h, fmt.Sprintf("/ui/jobs/site/runs/%d", s.siteFailed))
	mustContain(t, "failed run", body, `<span class="outcome o-failed">failed</span>`, `<pre class="error" id="error">`,
		"put index.html: https://REDACTED@minio.local/bucket: 503 Service Unavailable", "<dt>Try</dt><dd>first try</dd>")
	mustNotContain(t, "failed run", body, append(secrets, `id="changes"`)...)

	_, body = get(t, h, fmt.Sprintf("/ui/jobs/old-job/runs/%d", s.oldJob))
	mustContain(t, "statuses run", body, `<table class="data" id="branches">`, "<th scope=\"row\">main</th><td>written</td>", "deadbeef")

	for _, p := range []string{
		fmt.Sprintf("/ui/jobs/hud/runs/%d", s.siteOK), // another job's run
		"/ui/jobs/site/runs/999999", "/ui/jobs/site/runs/abc", "/ui/jobs/site/runs/-1",
	} {
		if code, _ := get(t, h, p); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, code)
		}
	}
}

func TestDeliveriesPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		seedDeliveries(t, d,
			[3]string{"push", "d-1", `{"ref":"refs/heads/main","repository":{"full_name":"acme/site"}}`},
			[3]string{"issues", "d-2", `{"action":"opened","issue":{"number":1},"repository":{"full_name":"acme/app"}}`},
			[3]string{"pull_request", "d-3", `{"action":"closed","number":5,"pull_request":{"number":5},"repository":{"full_name":"acme/<b>app</b>"}}`},
		)
		h := newUI(t, d, nil)
		code, body := get(t, h, "/ui/deliveries")
		if code != http.StatusOK {
			t.Fatalf("GET deliveries: %d\n%s", code, body)
		}
		rows := regexp.MustCompile(`(?s)<tr class="delivery">.*?</tr>`).FindAllString(body, -1)
		if len(rows) != 3 {
			t.Fatalf("%d delivery rows, want 3\n%s", len(rows), body)
		}
		// Newest first; the last one is still pending, the others processed.
		mustContain(t, "row 0", rows[0], ">pull_request<", "<td>closed</td>", "acme/&lt;b&gt;app&lt;/b&gt;", "pending", "<code>d-3</code>")
		mustContain(t, "row 1", rows[1], ">issues<", "<td>opened</td>", "<td>acme/app</td>", "<code>d-2</code>")
		mustContain(t, "row 2", rows[2], ">push<", "<td>acme/site</td>", "<code>d-1</code>")
		for i, r := range rows[1:] {
			if strings.Contains(r, "pending") || strings.Count(r, "<time") != 2 {
				t.Errorf("row %d should show received and processed times: %s", i+1, r)
			}
		}
		// Filter by event (a plain GET form).
		_, body = get(t, h, "/ui/deliveries?event=issues")
		if n := strings.Count(body, `<tr class="delivery">`); n != 1 || !strings.Contains(body, "d-2") {
			t.Errorf("event=issues: %d rows", n)
		}
		_, body = get(t, h, "/ui/deliveries?event=nothing")
		mustContain(t, "empty filter", body, "No webhook deliveries of event <code>nothing</code>")
		if code, _ := get(t, h, "/ui/deliveries?cursor=bad"); code != http.StatusBadRequest {
			t.Errorf("bad cursor: %d, want 400", code)
		}
	})
}

func TestRoutesAndHeaders(t *testing.T) {
	d := dbtest.SQLite(t)
	h := newUI(t, d, nil)
	rec := getRec(t, h, "/")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/ui/" {
		t.Errorf("GET /: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = getRec(t, h, "/ui/")
	if rec.Code != 200 || rec.Header().Get("Content-Security-Policy") == "" || rec.Header().Get("X-Content-Type-Options") != "nosniff" ||
		!strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("GET /ui/: %d headers %v", rec.Code, rec.Header())
	}
	// No jobs configured and no history: a helpful empty page, not an error.
	h2, err := ui.New(ui.Options{DB: d})
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, h2, "/ui/")
	mustContain(t, "empty jobs page", body, "No jobs are configured")
	rec = getRec(t, h, "/ui/assets/ui.css")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") || !strings.Contains(rec.Body.String(), "table.data") {
		t.Errorf("GET ui.css: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, p := range []string{"/nope", "/ui/nope", "/ui/hud/"} { // no HUD configured → 404 under /ui/hud/ too
		if code, body := get(t, h, p); code != http.StatusNotFound || !strings.Contains(body, "Not found") {
			t.Errorf("GET %s: %d", p, code)
		}
	}
	if _, body := get(t, h, "/ui/"); strings.Contains(body, "/ui/hud/") {
		t.Error("the navigation links the HUD although there is none")
	}
	if _, err := ui.New(ui.Options{}); err == nil {
		t.Error("New without a DB succeeded")
	}
}
