// Package recovery finds webhook deliveries GitHub never got through to
// ghsync and repairs their effects (docs/webhooks.md, "Missed
// deliveries"). Both are job kinds run on a schedule:
//
//   - Redeliver (kind: redeliver) lists the App's recent deliveries
//     (GET /app/hook/deliveries, App JWT, cursor paging back to Window, or
//     to the job's own cursor in redeliver_cursors) and, page by page, asks
//     GitHub to redeliver (POST /app/hook/deliveries/{id}/attempts) every
//     GUID ghsync never stored, whatever status GitHub shows, once per GUID
//     (recorded in redelivery_requests), at most MaxRequests per run.
//   - Reconcile (kind: reconcile) refreshes workflow jobs of the configured
//     repositories that have been queued or in_progress for longer than
//     StuckAfter from GET /repos/{o}/{r}/actions/jobs/{id}, through the
//     webhook projection and its ordering guard (webhooks.ApplyObject),
//     recording each outcome in reconcile_checks (back-off for rows the API
//     cannot help), at most MaxJobs per run.
//
// Both return a JSON-encodable summary and, with a Metrics, count into
// /metrics. Neither needs the webhook server to run.
package recovery

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/github"
)

// AppClient reaches the GitHub API authenticated as the App itself (JWT).
type AppClient struct {
	// HTTP sends requests with the App JWT (see NewAppClient).
	HTTP *http.Client
	// BaseURL is the API root with a trailing slash.
	BaseURL string
}

// NewAppClient returns an AppClient signing App JWTs with the App's id and
// PEM private key (ghinstallation). base is the API root ("" for
// https://api.github.com/); rt the transport (nil: http.DefaultTransport).
func NewAppClient(appID int64, privateKeyPEM []byte, base string, rt http.RoundTripper) (*AppClient, error) {
	if appID == 0 || len(privateKeyPEM) == 0 {
		return nil, errors.New("redeliver needs a GitHub App (GITHUB_APP_ID and GITHUB_PRIVATE_KEY): the deliveries API takes an App JWT")
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	if base == "" {
		base = github.DefaultBaseURL
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	tr, err := ghinstallation.NewAppsTransport(rt, appID, github.NormalizePrivateKey(privateKeyPEM))
	if err != nil {
		return nil, fmt.Errorf("GitHub App %d: %w", appID, err)
	}
	tr.BaseURL = strings.TrimSuffix(base, "/")
	return &AppClient{HTTP: &http.Client{Transport: tr, Timeout: time.Minute}, BaseURL: base}, nil
}

// RedeliverOptions are the job's settings.
type RedeliverOptions struct {
	// Window is how far back deliveries are examined (default 72h; GitHub
	// keeps about three days).
	Window time.Duration
	// Retention is how long ghsync keeps its record of a delivery
	// (webhooks.retention; 0: forever). Deliveries older than it are not
	// examined: ghsync has forgotten them, so they would look missing.
	Retention time.Duration
	// MaxRequests bounds the redeliveries requested per run (default 100).
	MaxRequests int
	// PerPage is the listing page size (default 100, GitHub's maximum).
	PerPage int
	// Cursor names this job's listing cursor in redeliver_cursors (""
	// keeps none: every run lists the whole window).
	Cursor string
	// DryRun lists what would be requested without requesting it (and
	// moves no cursor).
	DryRun bool
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// RedeliverSummary is the outcome of one run.
type RedeliverSummary struct {
	Listed           int      `json:"listed"`            // delivery entries seen within the window, newer than the cursor
	Pages            int      `json:"pages"`             // listing pages fetched
	GUIDs            int      `json:"guids"`             // distinct GUIDs among them
	Stored           int      `json:"stored"`            // GUIDs ghsync has
	Missing          int      `json:"missing"`           // GUIDs ghsync never stored
	Requested        int      `json:"requested"`         // redeliveries requested now
	AlreadyRequested int      `json:"already_requested"` // missing, but requested by an earlier run
	OverLimit        int      `json:"over_limit"`        // missing, left for the next run (MaxRequests)
	Failed           int      `json:"failed"`            // requests GitHub refused
	Cursor           int64    `json:"cursor,omitempty"`  // the newest delivery id settled, where the next run stops
	RequestedGUIDs   []string `json:"requested_guids,omitempty"`
	DryRun           bool     `json:"dry_run,omitempty"`
	Error            string   `json:"error,omitempty"`
}

// SetError records the run's error in the summary's JSON form.
func (s *RedeliverSummary) SetError(msg string) { s.Error = msg }

type hookDelivery struct {
	ID          int64     `json:"id"`
	GUID        string    `json:"guid"`
	DeliveredAt time.Time `json:"delivered_at"`
	Event       string    `json:"event"`
	Redelivery  bool      `json:"redelivery"`
	StatusCode  int       `json:"status_code"`
}

// Redeliver runs the redeliver job once. An error is returned (with the
// summary so far) when listing fails or some redelivery request failed.
//
// The listing (newest first) is streamed and acted on page by page: each
// page's GUIDs are looked up, and the missing ones requested, before the
// next page is read. With o.Cursor the run stops at the delivery id where
// the previous run found everything settled (stored or requested), so a
// run with nothing new reads one page. The cursor then moves to the
// newest id below which nothing is left unsettled (over MaxRequests, or a
// failed request): those are listed again by the next run. GitHub numbers
// deliveries in the order it makes them, redeliveries included.
func Redeliver(ctx context.Context, d *db.DB, app *AppClient, o RedeliverOptions, m *Metrics, log *slog.Logger) (*RedeliverSummary, error) {
	if o.Window <= 0 {
		o.Window = 72 * time.Hour
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = 100
	}
	if o.PerPage <= 0 || o.PerPage > 100 {
		o.PerPage = 100
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sum := &RedeliverSummary{DryRun: o.DryRun}
	window := o.Window
	if o.Retention > 0 && o.Retention < window {
		window = o.Retention
	}
	cutoff := o.Now().Add(-window)
	stop, err := readCursor(ctx, d, o.Cursor)
	if err != nil {
		return sum, err
	}
	r := &redeliverRun{d: d, app: app, o: o, sum: sum, log: log, seen: map[string]bool{}}
	next := app.BaseURL + "app/hook/deliveries?per_page=" + strconv.Itoa(o.PerPage)
	for next != "" {
		page, link, err := listPage(ctx, app, next)
		if err != nil {
			return sum, err
		}
		sum.Pages++
		next = link
		var fresh []hookDelivery
		for _, it := range page {
			if it.DeliveredAt.Before(cutoff) || (stop > 0 && it.ID <= stop) {
				next = "" // older than the window, or settled by an earlier run: this page is the last
				continue
			}
			fresh = append(fresh, it)
		}
		if err := r.page(ctx, fresh); err != nil {
			return sum, err
		}
	}
	// Everything listed above the oldest unsettled id is settled.
	newCursor := r.newest
	if r.oldestUnsettled > 0 {
		newCursor = r.oldestUnsettled - 1
	}
	if newCursor < stop || (r.oldestUnsettled > 0 && r.oldestUnsettled <= stop) {
		newCursor = stop
	}
	sum.Cursor = newCursor
	if o.Cursor != "" && !o.DryRun && newCursor > stop {
		if err := writeCursor(ctx, d, o.Cursor, newCursor); err != nil {
			return sum, err
		}
	}
	m.redelivered(sum)
	if len(r.failures) > 0 {
		return sum, fmt.Errorf("redeliver: %d request(s) failed: %s", len(r.failures), strings.Join(r.failures, "; "))
	}
	return sum, nil
}

// redeliverRun is the state of one Redeliver run across pages.
type redeliverRun struct {
	d    *db.DB
	app  *AppClient
	o    RedeliverOptions
	sum  *RedeliverSummary
	log  *slog.Logger
	seen map[string]bool // GUIDs handled by this run (a GUID's redeliveries share it)

	newest          int64 // the newest delivery id listed
	oldestUnsettled int64 // the oldest id left missing and not requested (0: none)
	failures        []string
}

// page acts on one listing page (newest first): it looks up its GUIDs and
// requests the redelivery of the missing ones, oldest first.
func (r *redeliverRun) page(ctx context.Context, items []hookDelivery) error {
	sum := r.sum
	var guids []string
	first := map[string]hookDelivery{} // per new GUID, its entry on this page (the original when listed)
	for _, it := range items {
		sum.Listed++
		r.newest = max(r.newest, it.ID)
		if r.seen[it.GUID] {
			continue
		}
		prev, ok := first[it.GUID]
		if !ok {
			guids = append(guids, it.GUID)
		}
		if !ok || (prev.Redelivery && !it.Redelivery) {
			first[it.GUID] = it
		}
	}
	if len(guids) == 0 {
		return nil
	}
	stored, err := storedGUIDs(ctx, r.d, "deliveries", "delivery_id", guids)
	if err != nil {
		return err
	}
	requested, err := storedGUIDs(ctx, r.d, "redelivery_requests", "guid", guids)
	if err != nil {
		return err
	}
	sum.GUIDs += len(guids)
	unsettled := func(id int64) {
		if r.oldestUnsettled == 0 || id < r.oldestUnsettled {
			r.oldestUnsettled = id
		}
	}
	// Oldest first, so a bounded run repairs in arrival order.
	for i := len(guids) - 1; i >= 0; i-- {
		g := guids[i]
		r.seen[g] = true
		it := first[g]
		switch {
		case stored[g]:
			sum.Stored++
			continue
		case requested[g]:
			sum.Missing++
			sum.AlreadyRequested++
			continue
		}
		sum.Missing++
		if sum.Requested+sum.Failed >= r.o.MaxRequests {
			sum.OverLimit++
			unsettled(it.ID)
			continue
		}
		if r.o.DryRun {
			sum.Requested++
			sum.RequestedGUIDs = append(sum.RequestedGUIDs, g)
			continue
		}
		if err := requestRedelivery(ctx, r.app, it.ID); err != nil {
			sum.Failed++
			unsettled(it.ID)
			r.failures = append(r.failures, fmt.Sprintf("%s (delivery %d): %v", g, it.ID, err))
			r.log.Warn("redelivery request failed", "guid", g, "delivery", it.ID, "err", err)
			continue
		}
		if _, err := r.d.Exec(ctx, `INSERT INTO redelivery_requests (guid, github_delivery_id, event, requested_at) VALUES (?, ?, ?, ?)
 ON CONFLICT (guid) DO NOTHING`, g, it.ID, it.Event, db.Now()); err != nil {
			return fmt.Errorf("record redelivery of %s: %w", g, err)
		}
		sum.Requested++
		sum.RequestedGUIDs = append(sum.RequestedGUIDs, g)
		r.log.Info("redelivery requested", "guid", g, "event", it.Event, "github_status", it.StatusCode)
	}
	return nil
}

// readCursor returns the delivery id the named cursor stops at (0: none).
func readCursor(ctx context.Context, d *db.DB, name string) (int64, error) {
	if name == "" {
		return 0, nil
	}
	var id int64
	err := d.QueryRow(ctx, "SELECT last_delivery_id FROM redeliver_cursors WHERE name = ?", name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("redeliver: read cursor %s: %w", name, err)
	}
	return id, nil
}

// writeCursor stores the named cursor.
func writeCursor(ctx context.Context, d *db.DB, name string, id int64) error {
	if _, err := d.Exec(ctx, `INSERT INTO redeliver_cursors (name, last_delivery_id, updated_at) VALUES (?, ?, ?)
 ON CONFLICT (name) DO UPDATE SET last_delivery_id = excluded.last_delivery_id, updated_at = excluded.updated_at`,
		name, id, db.Now()); err != nil {
		return fmt.Errorf("redeliver: write cursor %s: %w", name, err)
	}
	return nil
}

func listPage(ctx context.Context, app *AppClient, u string) ([]hookDelivery, string, error) {
	req, err := http.NewRequestWithContext(github.WithRoute(ctx, "GET /app/hook/deliveries"), http.MethodGet, u, nil)
	if err != nil {
		return nil, "", fmt.Errorf("list app hook deliveries: %w", err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	resp, err := app.HTTP.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("list app hook deliveries: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, "", fmt.Errorf("list app hook deliveries: read: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("list app hook deliveries: %s: %s", resp.Status, firstLine(body))
	}
	var page []hookDelivery
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, "", fmt.Errorf("list app hook deliveries: decode: %w", err)
	}
	return page, nextLink(resp.Header.Get("Link"), u), nil
}

// nextLink returns the rel="next" URL of a Link header, resolved against
// the request URL, or "".
func nextLink(h, reqURL string) string {
	for _, part := range strings.Split(h, ",") {
		segs := strings.Split(part, ";")
		if len(segs) < 2 {
			continue
		}
		target := strings.Trim(strings.TrimSpace(segs[0]), "<>")
		for _, p := range segs[1:] {
			if strings.TrimSpace(p) == `rel="next"` {
				base, err := url.Parse(reqURL)
				if err != nil {
					return ""
				}
				ref, err := url.Parse(target)
				if err != nil {
					return ""
				}
				return base.ResolveReference(ref).String()
			}
		}
	}
	return ""
}

func requestRedelivery(ctx context.Context, app *AppClient, id int64) error {
	u := app.BaseURL + "app/hook/deliveries/" + strconv.FormatInt(id, 10) + "/attempts"
	req, err := http.NewRequestWithContext(github.WithRoute(ctx, "POST /app/hook/deliveries/{delivery_id}/attempts"), http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	resp, err := app.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, firstLine(body))
	}
	return nil
}

// storedGUIDs returns which of ids are present in table.col, in batches.
func storedGUIDs(ctx context.Context, d *db.DB, table, col string, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for i := 0; i < len(ids); i += 500 {
		batch := ids[i:min(i+500, len(ids))]
		args := make([]any, len(batch))
		for k, g := range batch {
			args[k] = g
		}
		q := "SELECT " + col + " FROM " + table + " WHERE " + col + " IN (?" + strings.Repeat(", ?", len(batch)-1) + ")"
		rows, err := d.Query(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("look up %s: %w", table, err)
		}
		for rows.Next() {
			var g string
			if err := rows.Scan(&g); err != nil {
				rows.Close()
				return nil, fmt.Errorf("look up %s: %w", table, err)
			}
			out[g] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("look up %s: %w", table, err)
		}
	}
	return out, nil
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
