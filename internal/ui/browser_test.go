package ui_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/testkit"

	"github.com/chromedp/chromedp"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/scheduler"
)

// browser starts headless chromium (testkit.Browser: skips loudly, or fails
// when GHSYNC_REQUIRE_BROWSER=1, without one).
func browser(t *testing.T) context.Context { return testkit.Browser(t, 120*time.Second) }

// syncBuffer collects a child process's output.
type syncBuffer = testkit.SyncBuffer

const webhookSecret = "browser-test-secret"

// startServe runs `ghsync serve` on the embedded defaults in an empty
// directory (no config file: SQLite in ./data, file://./out); secret, when not
// empty, is given as GHSYNC_WEBHOOK_SECRET; env are more VAR=value
// settings. It returns the base URL and the working directory.
func startServe(t *testing.T, secret string, env ...string) (string, string) {
	t.Helper()
	work := t.TempDir()
	bin := testkit.Ghsync(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var out syncBuffer
	cmd := exec.Command(bin, "serve", "--addr", addr)
	cmd.Dir = work
	// A clean environment: no GHSYNC_CONFIG*, no credentials; the webhook
	// secret only when the test asks for one.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work}
	if secret != "" {
		cmd.Env = append(cmd.Env, "GHSYNC_WEBHOOK_SECRET="+secret)
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("serve did not stop within 15s of SIGTERM\n%s", out.String())
		}
		if t.Failed() {
			t.Logf("serve output:\n%s", out.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v\n%s", err, out.String())
		default:
		}
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready after 30s\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(work, "data", "ghsync.db")); err != nil {
		t.Fatalf("serve did not create its SQLite database in ./data: %v", err)
	}
	return base, work
}

// pageState is what a UI page shows, read in the browser.
type pageState struct {
	URL      string     `json:"url"`
	H1       string     `json:"h1"`
	Empty    string     `json:"empty"`
	Rows     [][]string `json:"rows"` // the first data table's body rows, cell texts
	Caption  string     `json:"caption"`
	Links    []string   `json:"links"` // hrefs in the first data table
	Nav      []string   `json:"nav"`
	OKColour string     `json:"ok_colour"` // computed colour of the first ok outcome badge
	Changes  []string   `json:"changes"`   // the run page's changed paths
	Errors   string     `json:"errors"`
}

const readPage = `(() => {
  const q = s => document.querySelector(s);
  const t = q("#deliveries") || q("table.data");
  const ok = q(".outcome.o-ok");
  return {
    url: location.href,
    h1: q("main h1") ? q("main h1").textContent.trim() : "",
    empty: q("main > .empty") ? q("main > .empty").textContent.trim() : "",
    rows: t ? [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent.trim().replace(/\s+/g, " "))) : [],
    caption: t && t.caption ? t.caption.textContent.trim() : "",
    links: t ? [...t.querySelectorAll("a")].map(a => a.getAttribute("href")) : [],
    nav: [...document.querySelectorAll("nav a")].map(a => a.textContent.trim()),
    ok_colour: ok ? getComputedStyle(ok).color : "",
    changes: [...document.querySelectorAll("#changes li")].map(li => li.textContent.trim()),
    errors: q("#error") ? q("#error").textContent : "",
  };
})()`

func read(t *testing.T, ctx context.Context) pageState {
	t.Helper()
	st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](readPage))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestBrowserServeOnDefaults is issue 5's "serve with no config file and
// no services starts on the embedded defaults and its UI renders in
// chromium": jobs, a run's detail after seeding a run, and deliveries.
func TestBrowserServeOnDefaults(t *testing.T) {
	ctx := browser(t)
	base, work := startServe(t, "")

	// / redirects to the jobs page; with no config and no history it says so.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`main h1`))); err != nil {
		t.Fatal(err)
	}
	st := read(t, ctx)
	if st.URL != base+"/ui/" || st.H1 != "Jobs" || !strings.Contains(st.Empty, "No jobs are configured") {
		t.Fatalf("start page: %+v", st)
	}
	if strings.Join(st.Nav, "|") != "Jobs|Webhook deliveries|Metrics" {
		t.Errorf("navigation %v", st.Nav)
	}

	// Seed one run into serve's own database, as the scheduler records it.
	d, err := db.Open(context.Background(), "sqlite://"+filepath.Join(work, "data", "ghsync.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	start := time.Now().Add(-90 * time.Second).UTC()
	sum, _ := json.Marshal(map[string]any{"source": "github:acme/site", "dest": "file://./out/site", "new": 2, "modified": 1, "deleted": 1,
		"paths": map[string]any{"new": []string{"index.html", "css/site.css"}, "modified": []string{"about.html"}, "deleted": []string{"old.html"}}})
	id := seedRun(t, d, scheduler.Run{Job: "site", QueueJobID: 1, Attempt: 1, ScheduledAt: start, StartedAt: start,
		FinishedAt: start.Add(4200 * time.Millisecond), Outcome: scheduler.OutcomeOK, Summary: sum, Replica: "browser-test"})

	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#jobs`))); err != nil {
		t.Fatal(err)
	}
	st = read(t, ctx)
	if len(st.Rows) != 1 {
		t.Fatalf("jobs table rows %v, want one (site)", st.Rows)
	}
	row := strings.Join(st.Rows[0], " | ")
	for _, want := range []string{"site (not in the configuration)", "4.2s", "ok", "2 new, 1 modified, 1 deleted", "min ago"} {
		if !strings.Contains(row, want) {
			t.Errorf("jobs row %q lacks %q", row, want)
		}
	}
	if st.OKColour != "rgb(26, 127, 55)" {
		t.Errorf("the stylesheet is not applied: ok badge colour %q", st.OKColour)
	}

	// The last run's start time links to the run's detail.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#jobs a[href*="/runs/"]`)), chromedp.WaitVisible(chromedp.CSS(`#run`))); err != nil {
		t.Fatal(err)
	}
	st = read(t, ctx)
	if st.URL != fmt.Sprintf("%s/ui/jobs/site/runs/%d", base, id) || st.H1 != fmt.Sprintf("Run #%d of site", id) {
		t.Errorf("run page: url %s, h1 %q", st.URL, st.H1)
	}
	if got := strings.Join(st.Changes, ","); got != "index.html,css/site.css,about.html,old.html" {
		t.Errorf("changed paths shown: %s", got)
	}

	// Without a secret the webhook endpoint refuses deliveries; the rest runs.
	resp, err := http.Post(base+"/api/github/webhooks", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("webhook without a secret: %d, want 503", resp.StatusCode)
	}
}

// TestBrowserDeliveries: with a secret, a signed delivery shows on the
// deliveries page, and its filter form works.
func TestBrowserDeliveries(t *testing.T) {
	ctx := browser(t)
	base, _ := startServe(t, webhookSecret)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.CSS(`main h1`))); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"ref":"refs/heads/main","repository":{"full_name":"acme/site"}}`)
	mac := hmac.New(sha256.New, []byte(webhookSecret))
	mac.Write(body)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/github/webhooks", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", "browser-1")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("webhook delivery: %d", resp.StatusCode)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav a[href="/ui/deliveries"]`)), chromedp.WaitVisible(chromedp.CSS(`#deliveries`))); err != nil {
		t.Fatal(err)
	}
	st := read(t, ctx)
	if st.H1 != "Webhook deliveries" || len(st.Rows) != 1 {
		t.Fatalf("deliveries page: %+v", st)
	}
	if r := st.Rows[0]; len(r) != 6 || r[0] != "push" || r[2] != "acme/site" || r[5] != "browser-1" || !strings.Contains(r[3], "UTC") {
		t.Errorf("delivery row %q", r)
	}
	// The event filter is a plain form: submitting it filters. (The page
	// before it has .empty paragraphs of its own, in the per-event and
	// failure sections: wait for the filtered list's.)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#event`), "issues"), chromedp.Submit(chromedp.CSS(`#event`)),
		chromedp.WaitVisible(chromedp.CSS(`#no-deliveries`))); err != nil {
		t.Fatal(err)
	}
	if st = read(t, ctx); !strings.HasSuffix(st.URL, "/ui/deliveries?event=issues") || !strings.Contains(st.Empty, "issues") {
		t.Errorf("after filtering: %+v", st)
	}
}

// TestBrowserHUDUnderUI: the HUD mounted under /ui/hud/ works in the
// browser: its links, stylesheet and script resolve under the mount.
func TestBrowserHUDUnderUI(t *testing.T) {
	ctx := browser(t)
	srv := httptest.NewServer(newUI(t, dbtest.SQLite(t), hudHandler(t)))
	defer srv.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/ui/"), chromedp.Click(chromedp.CSS(`nav a[href="/ui/hud/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a.branch`)), chromedp.Click(chromedp.CSS(`a.branch`)),
		chromedp.WaitVisible(chromedp.CSS(`#grid`))); err != nil {
		t.Fatal(err)
	}
	type hudState struct {
		URL    string `json:"url"`
		Shown  string `json:"shown"`
		Colour string `json:"colour"`
	}
	const readHUD = `(() => ({url: location.href, shown: document.getElementById("shown").textContent,
		colour: getComputedStyle(document.querySelector("td.cell.s-success")).backgroundColor}))()`
	st, err := chromedp.Run(ctx, chromedp.Evaluate[hudState](readHUD))
	if err != nil {
		t.Fatal(err)
	}
	if st.URL != srv.URL+"/ui/hud/b/acme/app/main.json" || st.Shown != "19" || st.Colour != "rgb(31, 136, 61)" {
		t.Fatalf("HUD grid under /ui/hud/: %+v", st)
	}
	// hud.js is loaded from under the mount: the live filter works.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#filter`), "circleci")); err != nil {
		t.Fatal(err)
	}
	if st, err = chromedp.Run(ctx, chromedp.Evaluate[hudState](readHUD)); err != nil || st.Shown != "2" {
		t.Fatalf("after filtering: %+v, %v", st, err)
	}
}

// TestBrowserSignIn: with a serve token, a page asked for in the browser
// shows the sign-in form; a wrong token is refused, the right one leads back
// to the page asked for (session cookie not readable by scripts), the UI
// works, and "Sign out" ends the session.
func TestBrowserSignIn(t *testing.T) {
	const token = "browser-test-serve-token-0123456789"
	ctx := browser(t)
	base, _ := startServe(t, "", "GHSYNC_SERVE_TOKEN="+token)
	type signIn struct {
		URL     string `json:"url"`
		Title   string `json:"title"`
		Error   string `json:"error"`
		H1      string `json:"h1"`
		Cookie  string `json:"cookie"`
		SignOut bool   `json:"sign_out"`
	}
	const readSignIn = `(() => ({url: location.href, title: document.title,
		error: document.querySelector(".error") ? document.querySelector(".error").textContent : "",
		h1: document.querySelector("main h1") ? document.querySelector("main h1").textContent.trim() : "",
		cookie: document.cookie, sign_out: !!document.querySelector("nav .signout button")}))()`
	state := func() signIn {
		t.Helper()
		st, err := chromedp.Run(ctx, chromedp.Evaluate[signIn](readSignIn))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/ui/deliveries"), chromedp.WaitVisible(chromedp.CSS(`#token`))); err != nil {
		t.Fatal(err)
	}
	if st := state(); st.URL != base+"/ui/deliveries" || !strings.Contains(st.Title, "Sign in") {
		t.Fatalf("anonymous page: %+v", st)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#token`), "not-the-token"), chromedp.Submit(chromedp.CSS(`#token`)),
		chromedp.WaitVisible(chromedp.CSS(`.error`))); err != nil {
		t.Fatal(err)
	}
	if st := state(); !strings.Contains(st.Error, "not correct") || st.Cookie != "" {
		t.Fatalf("wrong token: %+v", st)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#token`), token), chromedp.Submit(chromedp.CSS(`#token`)),
		chromedp.WaitVisible(chromedp.CSS(`nav .signout`))); err != nil {
		t.Fatal(err)
	}
	st := state()
	if st.URL != base+"/ui/deliveries" || st.H1 != "Webhook deliveries" || !st.SignOut {
		t.Fatalf("after signing in: %+v", st)
	}
	if st.Cookie != "" {
		t.Errorf("the session cookie is readable by scripts: %q", st.Cookie)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav a[href="/ui/"]`)), chromedp.WaitVisible(chromedp.CSS(`main h1`))); err != nil {
		t.Fatal(err)
	}
	if p := read(t, ctx); p.H1 != "Jobs" || !strings.Contains(p.Empty, "No jobs are configured") {
		t.Errorf("jobs page when signed in: %+v", p)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav .signout button`)), chromedp.WaitVisible(chromedp.CSS(`#token`))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.CSS(`#token`))); err != nil {
		t.Fatalf("after signing out the UI still answers: %v", err)
	}
}
