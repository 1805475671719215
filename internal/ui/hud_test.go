package ui_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/testkit"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/hud"
	"github.com/ghsync/ghsync/internal/ui"
)

// hudHandler is the real HUD over a store holding statuses' golden snapshot
// as acme/app/main.json.
func hudHandler(t *testing.T) http.Handler {
	t.Helper()
	b := testkit.SnapshotBucket(t, "../statuses/testdata/v5_main.json", "acme/app/main.json")
	h, err := hud.New(hud.Options{Bucket: b})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// rootLinks finds root-relative links (href/src/action="/…") in an HTML page.
var rootLinks = regexp.MustCompile(`\b(?:href|src|action)="(/[^"]*)"`)

func TestHUDMountedUnderUI(t *testing.T) {
	h := newUI(t, dbtest.SQLite(t), hudHandler(t))

	_, body := get(t, h, "/ui/")
	mustContain(t, "navigation", body, `<a href="/ui/hud/">Status HUD</a>`)

	code, body := get(t, h, "/ui/hud/")
	if code != http.StatusOK {
		t.Fatalf("GET /ui/hud/: %d\n%s", code, body)
	}
	// The HUD's pages are the app's: its layout, navigation and stylesheet.
	mustContain(t, "HUD index", body, `href="/ui/assets/ui.css"`, `<a href="/ui/hud/" aria-current="page">Status HUD</a>`,
		`href="/ui/hud/b/acme/app/main.json"`)

	rec := getRec(t, h, "/ui/hud/b/acme/app/main.json")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET grid: %d", rec.Code)
	}
	grid := rec.Body.String()
	mustContain(t, "HUD grid", grid, `id="grid"`, `src="/ui/hud/assets/hud.js"`, `href="/ui/hud/"`, `href="https://`,
		`href="/ui/assets/ui.css"`, `data-refresh="60"`)
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("the HUD grid's CSP: %q", csp)
	}
	// Every root-relative link of both pages resolves.
	for _, page := range []string{body, grid} {
		for _, m := range rootLinks.FindAllStringSubmatch(page, -1) {
			if m[1] == "/metrics" || m[1] == "/ui/deliveries" {
				continue // served by serve, not the UI; deliveries need the webhook tables
			}
			if code, _ := get(t, h, m[1]); code != http.StatusOK {
				t.Errorf("link %q: %d", m[1], code)
			}
		}
	}
	rec = getRec(t, h, "/ui/hud/assets/hud.css")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") || !strings.Contains(rec.Body.String(), ".s-success") {
		t.Errorf("HUD css: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	rec = getRec(t, h, "/ui/hud")
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/ui/hud/" {
		t.Errorf("GET /ui/hud: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
}

func TestHUDMountRewritesRedirectsNotForeignLinks(t *testing.T) {
	inner := http.NewServeMux()
	inner.HandleFunc("/go", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/there", http.StatusFound) })
	inner.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<a href="/x">x</a><a href="//cdn.example/y">y</a><a href="rel">r</a><form action="/f"></form><img src="/i.png">`))
	})
	inner.HandleFunc("/data.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"href="/kept"}`))
	})
	h := newUI(t, dbtest.SQLite(t), inner)
	rec := getRec(t, h, "/ui/hud/go")
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/ui/hud/there" {
		t.Errorf("redirect: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
	_, body := get(t, h, "/ui/hud/page")
	want := `<a href="/ui/hud/x">x</a><a href="//cdn.example/y">y</a><a href="rel">r</a><form action="/ui/hud/f"></form><img src="/ui/hud/i.png">`
	if body != want {
		t.Errorf("rewritten page\n got %s\nwant %s", body, want)
	}
	if _, body := get(t, h, "/ui/hud/data.json"); body != `{"href="/kept"}` {
		t.Errorf("non-HTML response was changed: %s", body)
	}
}

func TestForConfigMountsTheHUDOfStatusesJobs(t *testing.T) {
	d := dbtest.SQLite(t)
	dir := t.TempDir()
	y := "jobs:\n  - name: snap\n    kind: statuses\n    repo: acme/app\n    branches: [main]\n    dest: file://" + dir + "\n"
	cfg, err := jobs.ParseConfig([]byte(y), "hud.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	h, closeFn, err := ui.ForConfig(context.Background(), cfg, ui.Options{DB: d})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	if code, body := get(t, h, "/ui/hud/"); code != http.StatusOK || !strings.Contains(body, "No snapshots yet") || !strings.Contains(body, "has not run yet") {
		t.Errorf("GET /ui/hud/ with a statuses job: %d\n%s", code, body)
	}
	_, body := get(t, h, "/ui/")
	mustContain(t, "jobs page", body, `data-job="snap"`, `href="/ui/hud/"`)

	// Without statuses jobs there is no HUD.
	h, closeFn2, err := ui.ForConfig(context.Background(), testConfigNoStatuses(t), ui.Options{DB: d})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn2()
	if code, _ := get(t, h, "/ui/hud/"); code != http.StatusNotFound {
		t.Errorf("GET /ui/hud/ without statuses jobs: %d, want 404", code)
	}
}

func testConfigNoStatuses(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := jobs.ParseConfig([]byte("jobs:\n  - name: site\n    kind: repo\n    source: github:acme/site\n    dest: file:///tmp/x\n"), "r.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
