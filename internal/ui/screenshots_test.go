package ui_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/hud"
	"github.com/ghsync/ghsync/internal/testkit"
	"github.com/ghsync/ghsync/internal/ui"
)

// envUpdateScreenshots, set to 1, makes TestBrowserScreenshots write the
// pages' screenshots to docs/ui/ (committed; docs/ui.md shows them).
const envUpdateScreenshots = "GHSYNC_UPDATE_SCREENSHOTS"

// TestBrowserScreenshots renders every page of the UI in Chromium at
// 1280×900 from a seeded database — jobs, job, run, inbox, inbox set,
// deliveries, the HUD with data and without — checks what each one must
// show, and with GHSYNC_UPDATE_SCREENSHOTS=1 writes docs/ui/NAME.png.
func TestBrowserScreenshots(t *testing.T) {
	ctx := testkit.Browser(t, 180*time.Second)
	d := dbtest.SQLite(t)
	at := time.Now().UTC()
	s := seedFirstDay(t, d, at)
	reg := webhookMetrics(t, d) // before the failures: it processes what is pending
	seedWebhookFailures(t, d, at)

	// With data: a store holding statuses' golden snapshot.
	b := testkit.SnapshotBucket(t, "../statuses/testdata/v5_main.json", "acme/app/main.json")
	hh, err := hud.New(hud.Options{Bucket: b})
	if err != nil {
		t.Fatal(err)
	}
	withData, err := ui.New(ui.Options{Config: firstDayConfig(t, t.TempDir()), DB: d, HUD: hh, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(withData)
	defer srv.Close()
	// Without data: an empty snapshot store, the statuses job failing.
	noData, closeFn, err := ui.ForConfig(t.Context(), firstDayConfig(t, t.TempDir()), ui.Options{DB: d})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	empty := httptest.NewServer(noData)
	defer empty.Close()

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	pages := []struct {
		name, base, path, wait string
		wants                  []string
		// look, when set, is a script whose result must be lookWant: what
		// the page looks like (a failing set red at a glance…).
		look, lookWant string
	}{
		{"jobs", srv.URL, "/ui/", "#jobs", []string{"site", "still running", "uploads", "10 inserted, 2 updated, 1 deleted in 2 tables", "Inbox", "Status HUD"}, "", ""},
		{"job", srv.URL, "/ui/jobs/site", "#runs", []string{"All settings", "cache_control", "*.html → no-cache", "still running, for 3 min", "retry 1 (try 2)"}, "", ""},
		{"run", srv.URL, fmt.Sprintf("/ui/jobs/site/runs/%d", s.siteFailed), "#error", []string{"caused by: write", "retry 1 (try 2)", "failed"}, "", ""},
		{"api-job", srv.URL, "/ui/jobs/assessments", "#last-tables", []string{"Last counts per table", "assessment_tag", "columns added: score"}, "", ""},
		{"inbox", srv.URL, "/ui/inbox", "table.sets", []string{"checks failed", "actions to retry", "passed", "2 need attention"},
			// The failing set's row is red, its badge white on red, the retrying one yellow.
			`[...document.querySelectorAll("table.sets tbody tr")].map(r => r.dataset.state + " " + getComputedStyle(r).backgroundColor + " " +
				getComputedStyle(r.querySelector(".state")).backgroundColor).join("; ")`,
			"failed rgb(255, 235, 233) rgb(207, 34, 46); retrying rgb(255, 248, 197) rgb(255, 248, 197); passed rgba(0, 0, 0, 0) rgba(0, 0, 0, 0)"},
		{"inbox-set", srv.URL, "/ui/inbox/uploads/E07000223/2026-05-07/1700000000/", "#set-files", []string{"checks failed", "✗ invalid", "Incorrect number of columns on line 4", "issues/7", "Done", "Report"}, "", ""},
		{"deliveries", srv.URL, "/ui/deliveries", "#event-counts", []string{"Deliveries per event", "workflow_job", "Last projection failures", "being retried", "Last log download failures", "404 Not Found"}, "", ""},
		{"hud", srv.URL, "/ui/hud/", "a.branch", []string{"Status HUD", "acme/app", "did not write its snapshots"},
			// Inside the app: the UI's type and colours, not the HUD's own page.
			`getComputedStyle(document.body).fontSize + " " + getComputedStyle(document.querySelector("header")).backgroundColor + " " +
				document.querySelector(".hud-failing a[href*='/runs/']").getAttribute("href")`,
			fmt.Sprintf("15px rgb(246, 248, 250) /ui/jobs/hud/runs/%d", s.hudFailed)},
		{"hud-grid", srv.URL, "/ui/hud/b/acme/app/main.json", "#grid", []string{"acme/app/main", "Filter jobs", "success"}, "", ""},
		{"hud-empty", empty.URL, "/ui/hud/", "main h1", []string{"did not write its snapshots", "401 Bad credentials", "No snapshots yet"}, "", ""},
		{"metrics", srv.URL, "/ui/metrics", "#metrics-explained", []string{"Prometheus", "scrape_configs", "ghsync_webhook_deliveries_total"}, "", ""},
	}
	write := os.Getenv(envUpdateScreenshots) == "1"
	for _, p := range pages {
		if err := chromedp.Do(ctx, chromedp.Navigate(p.base+p.path), chromedp.WaitVisible(chromedp.CSS(p.wait))); err != nil {
			t.Fatalf("%s (%s): %v", p.name, p.path, err)
		}
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			t.Fatal(err)
		}
		nav, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("nav a")].map(a => a.textContent.trim()).join("|")`))
		if err != nil {
			t.Fatal(err)
		}
		if p.look != "" {
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](p.look))
			if err != nil {
				t.Fatalf("%s: %v", p.name, err)
			}
			if got != p.lookWant {
				t.Errorf("%s page looks wrong:\n got %s\nwant %s", p.name, got, p.lookWant)
			}
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range p.wants {
			if !strings.Contains(text, w) {
				t.Errorf("%s page (%s) does not show %q", p.name, p.path, w)
			}
		}
		// Every page, the HUD included, has the app's navigation.
		if !strings.HasPrefix(nav, "Jobs|Webhook deliveries|Status HUD|Inbox|Metrics") {
			t.Errorf("%s page navigation %q", p.name, nav)
		}
		if len(png) < 1000 {
			t.Errorf("%s: screenshot of %d bytes", p.name, len(png))
		}
		if write {
			if err := os.WriteFile(filepath.Join("..", "..", "docs", "ui", p.name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
