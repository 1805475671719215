package hud

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/testkit"

	"github.com/chromedp/chromedp"
)

// browser starts headless chromium (testkit.Browser: skips loudly, or fails
// when GHSYNC_REQUIRE_BROWSER=1, without one).
func browser(t *testing.T) context.Context { return testkit.Browser(t, 90*time.Second) }

// gridState is what the page shows, read in the browser.
type gridState struct {
	Rows    int        `json:"rows"`
	Headers []string   `json:"headers"` // visible job headers
	Cells   [][]cellJS `json:"cells"`   // visible cells per row
	Shown   string     `json:"shown"`
	URL     string     `json:"url"`
}

type cellJS struct {
	Job    string `json:"job"`
	Class  string `json:"class"`
	Colour string `json:"colour"`
	Href   string `json:"href"`
}

const readGrid = `(() => {
  const vis = el => getComputedStyle(el).display !== "none";
  const rows = [...document.querySelectorAll("#grid tbody tr.commit")];
  return {
    rows: rows.length,
    headers: [...document.querySelectorAll("th.job")].filter(vis).map(th => th.dataset.job),
    cells: rows.map(r => [...r.querySelectorAll("td.cell")].filter(vis).map(td => ({
      job: td.dataset.job, class: td.className,
      colour: getComputedStyle(td).backgroundColor,
      href: td.querySelector("a") ? td.querySelector("a").href : ""}))),
    shown: document.getElementById("shown").textContent,
    url: location.href,
  };
})()`

// colours are the cell colours per status (hud.css).
var colours = map[string]string{
	"success": "rgb(31, 136, 61)", "failure": "rgb(207, 34, 46)", "timed_out": "rgb(207, 34, 46)", "error": "rgb(207, 34, 46)",
	"pending": "rgb(191, 135, 0)", "queued": "rgb(234, 201, 90)", "cancelled": "rgb(110, 119, 129)", "stale": "rgb(110, 119, 129)",
	"skipped": "rgb(208, 215, 222)", "neutral": "rgb(208, 215, 222)", "action_required": "rgb(130, 80, 223)",
}

// read returns the grid as the browser shows it.
func read(t *testing.T, ctx context.Context) gridState {
	t.Helper()
	st, err := chromedp.Run(ctx, chromedp.Evaluate[gridState](readGrid))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestBrowserGridAndFilter(t *testing.T) {
	ctx := browser(t)
	srv := httptest.NewServer(newHandler(t, goldenBucket(t), time.Hour))
	defer srv.Close()

	// The golden snapshot, as the HUD must show it.
	var golden []struct {
		SHA  string `json:"sha"`
		Jobs []struct{ Name, Status, URL string }
	}
	raw, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`a.branch`)),
		chromedp.Click(chromedp.CSS(`a.branch`)),
		chromedp.WaitVisible(chromedp.CSS(`#grid`)),
	); err != nil {
		t.Fatal(err)
	}
	st := read(t, ctx)
	if st.Rows != len(golden) || len(st.Headers) != 19 || st.Shown != "19" {
		t.Fatalf("grid: %d rows, %d job columns (shown %s); want %d and 19", st.Rows, len(st.Headers), st.Shown, len(golden))
	}
	for i, row := range st.Cells {
		if len(row) != 19 {
			t.Fatalf("row %d has %d cells, want 19", i, len(row))
		}
		byName := map[string]cellJS{}
		for _, c := range row {
			byName[c.Job] = c
		}
		coloured := 0
		for _, c := range row {
			if !strings.Contains(c.Class, "none") {
				coloured++
			}
		}
		if coloured != len(golden[i].Jobs) {
			t.Errorf("row %d: %d coloured cells, want %d", i, coloured, len(golden[i].Jobs))
		}
		for _, j := range golden[i].Jobs {
			c := byName[j.Name]
			if c.Colour != colours[j.Status] {
				t.Errorf("row %d %s (%s): colour %s, want %s", i, j.Name, j.Status, c.Colour, colours[j.Status])
			}
			if c.Href != j.URL {
				t.Errorf("row %d %s: link %q, want %q", i, j.Name, c.Href, j.URL)
			}
		}
	}

	// Typing in the filter hides every other column, live, and keeps the
	// filter in the URL for the next auto-refresh.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#filter`), "circleci")); err != nil {
		t.Fatal(err)
	}
	st = read(t, ctx)
	if len(st.Headers) != 2 || st.Shown != "2" || !strings.Contains(st.URL, "filter=circleci") {
		t.Fatalf("after filtering: headers %v shown %s url %s", st.Headers, st.Shown, st.URL)
	}
	for i, row := range st.Cells {
		if len(row) != 2 {
			t.Fatalf("row %d shows %d cells after filtering, want 2", i, len(row))
		}
	}
	// The filter survives a reload (server-side) and clearing it shows all.
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#grid`))); err != nil {
		t.Fatal(err)
	}
	st = read(t, ctx)
	if len(st.Headers) != 2 {
		t.Fatalf("after reload: headers %v", st.Headers)
	}
	clear := `(() => { const f = document.getElementById("filter"); f.value = ""; return f.dispatchEvent(new Event("input")); })()`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](clear)); err != nil {
		t.Fatal(err)
	}
	st = read(t, ctx)
	if len(st.Headers) != 19 || strings.Contains(st.URL, "filter=") {
		t.Fatalf("after clearing: %d headers, url %s", len(st.Headers), st.URL)
	}
}

func TestBrowserAutoRefresh(t *testing.T) {
	ctx := browser(t)
	srv := httptest.NewServer(newHandler(t, goldenBucket(t), time.Second))
	defer srv.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/b/acme/app/main.json"), chromedp.WaitVisible(chromedp.CSS(`#grid`))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__marker = true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Sleep(2500*time.Millisecond), chromedp.WaitVisible(chromedp.CSS(`#grid`))); err != nil {
		t.Fatal(err)
	}
	marker, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__marker === true`))
	if err != nil {
		t.Fatal(err)
	}
	if marker {
		t.Fatal("the page did not reload itself")
	}
}
