// Package hud serves status snapshots (written by package statuses) as a
// HUD: one grid per branch, commits down, job names across, a coloured cell
// per job linking to its details, the headline and author per row, a filter
// by job-name substring and auto-refresh. Pages are rendered on the server
// from the same objects, in the same store, that statuses writes; the CSS
// and JavaScript are embedded in the binary.
package hud

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/statuses"
	"github.com/ghsync/ghsync/internal/store"
)

//go:embed assets/*
var assets embed.FS

//go:embed templates/*.html
var templateFS embed.FS

// Options configures a Handler.
type Options struct {
	// Bucket is the store the snapshots live in (the statuses job's dest).
	Bucket *store.Bucket
	// Refresh is the auto-refresh interval of the pages; zero means 60s.
	Refresh time.Duration
	// Logger receives one line per failed request; nil discards.
	Logger *slog.Logger
}

// Handler serves the HUD:
//
//	GET /                      the snapshots in the store, by repository
//	GET /b/OWNER/REPO/BRANCH.json  one snapshot's grid (?filter=substring)
//	GET /assets/…              embedded CSS and JavaScript
type Handler struct {
	o    Options
	tmpl *template.Template
	mux  *http.ServeMux
}

// New returns the HUD handler for o.
func New(o Options) (*Handler, error) {
	if o.Bucket == nil {
		return nil, errors.New("hud: Bucket is required")
	}
	if o.Refresh <= 0 {
		o.Refresh = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	t, err := template.New("hud").Funcs(gridFuncs).Funcs(template.FuncMap{
		"secs": func(d time.Duration) int { return int(d / time.Second) },
	}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("hud templates: %w", err)
	}
	h := &Handler{o: o, tmpl: t, mux: http.NewServeMux()}
	sub, _ := fs.Sub(assets, "assets")
	h.mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(sub)))
	h.mux.HandleFunc("GET /b/{key...}", h.branch)
	h.mux.HandleFunc("GET /{$}", h.index)
	return h, nil
}

// gridFuncs are the functions templates/gridparts.html calls.
var gridFuncs = template.FuncMap{"hudShort": func(s string) string { return s[:min(7, len(s))] }}

// AddGridParts adds the HUD grid's legend and table to t, as the templates
// "hud-legend" and "hud-table" (data: a GridPage), so that a page embedding
// the HUD in its own layout (the web UI) renders the very grid the HUD's
// own page does.
func AddGridParts(t *template.Template) (*template.Template, error) {
	t, err := t.Funcs(gridFuncs).ParseFS(templateFS, "templates/gridparts.html")
	if err != nil {
		return nil, fmt.Errorf("hud grid templates: %w", err)
	}
	return t, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:")
	h.mux.ServeHTTP(w, r)
}

// IndexPage lists snapshots.
type IndexPage struct {
	Refresh time.Duration
	Repos   []repoLinks
}

// repoLinks are one repository's snapshots (exported fields: templates of
// embedding pages read them).
type repoLinks struct {
	Repo     string
	Branches []branchLink
}

type branchLink struct {
	Name, Key string
}

// Index lists the snapshots in the store by repository, for a page that
// embeds the HUD (the web UI renders it in its own layout).
func (h *Handler) Index(ctx context.Context) (IndexPage, error) {
	byRepo := map[string][]branchLink{}
	err := h.o.Bucket.List(ctx, func(obj store.Object) error {
		parts := strings.Split(obj.Key, "/")
		if len(parts) < 3 || !strings.HasSuffix(obj.Key, ".json") {
			return nil
		}
		repo := strings.Join(parts[len(parts)-3:len(parts)-1], "/")
		name := strings.TrimSuffix(parts[len(parts)-1], ".json")
		byRepo[repo] = append(byRepo[repo], branchLink{Name: name, Key: obj.Key})
		return nil
	})
	if err != nil {
		return IndexPage{}, fmt.Errorf("list snapshots: %w", err)
	}
	p := IndexPage{Refresh: h.o.Refresh}
	for repo, links := range byRepo {
		sort.Slice(links, func(i, j int) bool { return links[i].Name < links[j].Name })
		p.Repos = append(p.Repos, repoLinks{Repo: repo, Branches: links})
	}
	sort.Slice(p.Repos, func(i, j int) bool { return p.Repos[i].Repo < p.Repos[j].Repo })
	return p, nil
}

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	p, err := h.Index(r.Context())
	if err != nil {
		h.fail(w, r, http.StatusBadGateway, err)
		return
	}
	h.render(w, r, "index.html", p)
}

// GridError is Grid's error: Status is the HTTP status it calls for (400
// bad key, 404 no such snapshot, 422 not a snapshot, 502 store failed).
type GridError struct {
	Status int
	Err    error
}

func (e *GridError) Error() string { return e.Err.Error() }
func (e *GridError) Unwrap() error { return e.Err }

// Grid reads the snapshot at key and lays it out (filter: job-name
// substring), for a page that embeds the HUD. Errors are *GridError.
func (h *Handler) Grid(ctx context.Context, key, filter string) (GridPage, error) {
	if err := store.CheckKey(key); err != nil || !strings.HasSuffix(key, ".json") {
		return GridPage{}, &GridError{http.StatusBadRequest, fmt.Errorf("bad snapshot key %q", key)}
	}
	body, _, err := h.o.Bucket.Read(ctx, key)
	if errors.Is(err, store.ErrNotExist) {
		return GridPage{}, &GridError{http.StatusNotFound, fmt.Errorf("no snapshot %s", key)}
	}
	if err != nil {
		return GridPage{}, &GridError{http.StatusBadGateway, fmt.Errorf("read %s: %w", key, err)}
	}
	snap, err := statuses.Parse(body)
	if err != nil {
		return GridPage{}, &GridError{http.StatusUnprocessableEntity, fmt.Errorf("%s: %w", key, err)}
	}
	return buildGrid(snap, key, strings.TrimSpace(filter), h.o.Refresh), nil
}

// GridPage is one snapshot's grid.
type GridPage struct {
	Refresh time.Duration
	Key     string
	Title   string
	Filter  string
	// Jobs are all job names (columns), sorted; Hidden marks those the
	// filter hides (rendered hidden so clearing the filter shows them).
	Jobs   []string
	Hidden map[string]bool
	Shown  int
	Rows   []gridRow
}

type gridRow struct {
	SHA, Headline, Author, Date string
	Cells                       []gridCell
}

type gridCell struct {
	Job, Status, URL string
}

func (h *Handler) branch(w http.ResponseWriter, r *http.Request) {
	p, err := h.Grid(r.Context(), r.PathValue("key"), r.URL.Query().Get("filter"))
	var ge *GridError
	if errors.As(err, &ge) {
		h.fail(w, r, ge.Status, ge.Err)
		return
	}
	h.render(w, r, "grid.html", p)
}

// buildGrid lays a snapshot out as rows × job columns. Columns are the
// job names of all commits, sorted; with a filter, names not containing it
// (case-insensitive) are hidden.
func buildGrid(s *statuses.Snapshot, key, filter string, refresh time.Duration) GridPage {
	names := map[string]bool{}
	for _, c := range s.Commits {
		for _, j := range c.Jobs {
			names[j.Name] = true
		}
	}
	p := GridPage{Refresh: refresh, Key: key, Title: strings.TrimSuffix(key, ".json"), Filter: filter, Hidden: map[string]bool{}}
	low := strings.ToLower(filter)
	for n := range names {
		p.Jobs = append(p.Jobs, n)
		if strings.Contains(strings.ToLower(n), low) {
			p.Shown++
		} else {
			p.Hidden[n] = true
		}
	}
	sort.Strings(p.Jobs)
	col := make(map[string]int, len(p.Jobs))
	for i, n := range p.Jobs {
		col[n] = i
	}
	for _, c := range s.Commits {
		row := gridRow{SHA: c.SHA, Headline: c.Headline, Author: c.Author, Date: c.Date, Cells: make([]gridCell, len(p.Jobs))}
		for i, n := range p.Jobs {
			row.Cells[i].Job = n
		}
		for _, j := range c.Jobs {
			if i, ok := col[j.Name]; ok && row.Cells[i].Status == "" {
				row.Cells[i] = gridCell{Job: j.Name, Status: j.Status, URL: j.URL}
			}
		}
		p.Rows = append(p.Rows, row)
	}
	return p
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	if err := h.tmpl.ExecuteTemplate(w, name, data); err != nil {
		h.o.Logger.Error("hud: render", "page", name, "path", r.URL.Path, "error", err.Error())
	}
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	h.o.Logger.Warn("hud: request failed", "path", r.URL.Path, "status", status, "error", err.Error())
	http.Error(w, err.Error(), status)
}

// Serve runs the HUD on addr until ctx is done.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("hud on %s: %w", addr, err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if log != nil {
			log.Info("hud: shutting down", "addr", addr)
		}
		return srv.Shutdown(sctx)
	}
}
