// Package ui is the web UI of `ghsync serve`: server-rendered HTML pages
// (html/template; templates and CSS embedded; no JavaScript needed) showing
// the configured jobs with their last runs, each job's recent runs, a run's
// detail (what changed, or why it failed), recent webhook deliveries, and the
// status-snapshot HUD when one is given.
//
// Routes of the handler returned by [New]:
//
//	GET /                          303 redirect to /ui/
//	GET /ui/                       jobs: name, kind, schedule, next run, last run (start, duration, outcome, summary)
//	GET /ui/jobs/{job}             a job's settings and recent runs (?limit=, default 50)
//	GET /ui/jobs/{job}/runs/{id}   one run: timing, outcome, error, changed paths, the full summary
//	GET /ui/deliveries             recent webhook deliveries (?event=, ?cursor=), deliveries per event, the last failures
//	GET /ui/deliveries/classification  the log classifier's accuracy over the last ?days= (default 7)
//	GET /ui/inbox                  every inbox job's upload sets, failing ones first
//	GET /ui/inbox/{job}/{prefix…}  one upload set: files, validity, errors, actions, issue, report
//	GET /ui/metrics                what /metrics is and the metrics it exposes (/metrics stays raw)
//	GET /ui/assets/ui.css          the stylesheet
//	GET /ui/hud/                   the HUD's snapshots and the statuses jobs' last runs, in the UI's layout (Options.HUD a *hud.Handler)
//	GET /ui/hud/b/{key…}           one snapshot's grid, in the UI's layout
//	    /ui/hud/…                  anything else (hud.js): Options.HUD with the /ui/hud prefix stripped (when set)
//
// Everything rendered goes through html/template escaping. Secrets are never
// rendered: the configuration's Secret fields are not shown at all, URLs in
// settings, summaries and error texts are redacted with store.Redact, and the
// database URL is not shown.
//
// Usage (after serve.New):
//
//	h, err := ui.New(ui.Options{Config: cfg, DB: srv.DB(), HUD: hudHandler, Logger: log})
//	srv.Handle("/", h)
package ui

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/hud"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/scheduler"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/*
var assetFS embed.FS

// Prefix is the path under which the UI lives.
const Prefix = "/ui/"

// HUDPrefix is the path under which Options.HUD is mounted.
const HUDPrefix = "/ui/hud/"

// Options configures the UI handler.
type Options struct {
	// Config is the loaded configuration; its jobs are listed. Nil means no
	// configured jobs (jobs that only appear in the run history are still
	// listed).
	Config *config.Config
	// DB holds the run history (package scheduler) and the webhook
	// deliveries (package webhooks). Required.
	DB *db.DB
	// HUD, when set, is served under /ui/hud/ with the prefix stripped, and
	// linked from the navigation. Root-relative links in its HTML pages
	// (href="/…", src="/…", action="/…") are rewritten to stay under /ui/hud/.
	HUD http.Handler
	// Kinds describe the configured jobs; nil means jobs.Builtin().
	Kinds *jobs.Registry
	// Logger receives one line per failed request; nil discards.
	Logger *slog.Logger
	// Now is the clock used for "ago" texts and next runs; nil means time.Now.
	Now func() time.Time
	// Metrics, when set, is the registry /metrics exposes: the Metrics page
	// lists its metrics with their help texts.
	Metrics prometheus.Gatherer
	// SignOutPath, when set, adds a "Sign out" button to the navigation
	// that POSTs there (serve.LogoutPath when the server needs a token).
	SignOutPath string
}

// handler is the UI's http.Handler.
type handler struct {
	o     Options
	log   *slog.Logger
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// pageNames are the page templates; each is rendered inside layout.html.
var pageNames = []string{"jobs.html", "job.html", "run.html", "deliveries.html", "error.html", "metrics.html", "inbox.html", "inboxset.html", "hud.html", "hudgrid.html", "classification.html"}

// New returns the UI handler. It creates the run-history tables when they do
// not exist yet (scheduler.Migrate, idempotent), so that the pages work
// before the scheduler has ever run; that takes at most 30 seconds.
func New(o Options) (http.Handler, error) {
	if o.DB == nil {
		return nil, errors.New("ui: DB is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := scheduler.Migrate(ctx, o.DB); err != nil {
		return nil, fmt.Errorf("ui: run-history tables: %w", err)
	}
	h := &handler{o: o, log: o.Logger, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	funcs := h.funcs()
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name)
		if err == nil && name == "hudgrid.html" {
			t, err = hud.AddGridParts(t) // the HUD's own grid, in the UI's layout
		}
		if err != nil {
			return nil, fmt.Errorf("ui: template %s: %w", name, err)
		}
		h.pages[name] = t
	}
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return nil, fmt.Errorf("ui: assets: %w", err)
	}
	h.mux.Handle("GET /ui/assets/", http.StripPrefix("/ui/assets/", http.FileServerFS(sub)))
	h.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
	})
	h.mux.HandleFunc("GET /ui", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
	})
	h.mux.HandleFunc("GET /ui/{$}", h.jobsPage)
	h.mux.HandleFunc("GET /ui/jobs/{job}", h.jobPage)
	h.mux.HandleFunc("GET /ui/jobs/{job}/runs/{id}", h.runPage)
	h.mux.HandleFunc("GET /ui/deliveries", h.deliveriesPage)
	h.mux.HandleFunc("GET /ui/deliveries/classification", h.classificationPage)
	h.mux.HandleFunc("GET /ui/metrics", h.metricsPage)
	h.mux.HandleFunc("GET /ui/inbox", h.inboxPage)
	h.mux.HandleFunc("GET /ui/inbox/{job}/{prefix...}", h.inboxSetPage)
	if src, ok := o.HUD.(hudSource); ok {
		// The HUD's pages in the UI's layout; its assets (hud.js) from it.
		h.mux.HandleFunc("GET /ui/hud/{$}", h.hudIndexPage(src))
		h.mux.HandleFunc("GET /ui/hud/b/{key...}", h.hudGridPage(src))
	}
	if o.HUD != nil {
		h.mux.Handle("/ui/hud/", http.StripPrefix(strings.TrimSuffix(HUDPrefix, "/"), rewriteRoot(o.HUD, strings.TrimSuffix(HUDPrefix, "/"))))
		h.mux.HandleFunc("GET /ui/hud", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, HUDPrefix, http.StatusMovedPermanently)
		})
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusNotFound, "Page not found", nil)
	})
	return h, nil
}

// ServeHTTP implements http.Handler, adding security headers to UI pages.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// (The HUD's own handler, for its assets, sets its own headers.)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// page is what every template receives: the layout's fields and the page's
// own data in Data.
type page struct {
	Title  string
	Nav    string // which navigation entry is current: jobs, deliveries, hud
	HasHUD bool
	// HasInbox shows the Inbox entry (the configuration has inbox jobs).
	HasInbox bool
	// SignOut is where the "Sign out" button posts; "" hides it.
	SignOut string
	// Refresh, when positive, is the page's auto-refresh in seconds (HUD
	// pages; done by the HUD's script).
	Refresh int
	Data    any
}

// render executes the page template name with data.
func (h *handler) render(w http.ResponseWriter, r *http.Request, code int, name, title, nav string, data any) {
	h.renderPage(w, r, code, name, title, nav, 0, data)
}

// renderRefresh renders a HUD page that refreshes itself every secs.
func (h *handler) renderRefresh(w http.ResponseWriter, r *http.Request, name, title string, secs float64, data any) {
	h.renderPage(w, r, http.StatusOK, name, title, "hud", int(secs), data)
}

func (h *handler) renderPage(w http.ResponseWriter, r *http.Request, code int, name, title, nav string, refresh int, data any) {
	var buf strings.Builder
	p := page{Refresh: refresh, Title: title, Nav: nav, HasHUD: h.o.HUD != nil, HasInbox: len(h.inboxJobs()) > 0, SignOut: h.o.SignOutPath, Data: data}
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.Error("ui: render failed", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(buf.String()))
}

// errorData is the data of error.html.
type errorData struct {
	Code    int
	Message string
}

// fail renders an error page; err (logged, not shown) is the cause when the
// failure is the server's.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, code int, msg string, err error) {
	if err != nil {
		h.log.Error("ui: request failed", "path", r.URL.Path, "status", code, "err", err)
	}
	h.render(w, r, code, "error.html", msg, "", errorData{Code: code, Message: msg})
}
