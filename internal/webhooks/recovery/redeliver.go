// Package recovery finds webhook deliveries GitHub never got through to
// ghsync and repairs their effects (spec 30-webhooks.md, "Missed
// deliveries"). Both are job kinds run on a schedule:
//
//   - Redeliver (kind: redeliver) lists the App's recent deliveries
//     (GET /app/hook/deliveries, App JWT, cursor paging back to Window) and
//     asks GitHub to redeliver (POST /app/hook/deliveries/{id}/attempts)
//     every GUID ghsync never stored, whatever status GitHub shows, once per
//     GUID (recorded in redelivery_requests), at most MaxRequests per run.
//   - Reconcile (kind: reconcile) refreshes workflow jobs of the configured
//     repositories that have been queued or in_progress for longer than
//     StuckAfter from GET /repos/{o}/{r}/actions/jobs/{id}, through the
//     webhook projection and its ordering guard (webhooks.ApplyObject).
//
// Both return a JSON-encodable summary and, with a Metrics, count into
// /metrics. Neither needs the webhook server to run.
package recovery

import (
	"context"
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
	// MaxRequests bounds the redeliveries requested per run (default 100).
	MaxRequests int
	// PerPage is the listing page size (default 100, GitHub's maximum).
	PerPage int
	// DryRun lists what would be requested without requesting it.
	DryRun bool
}

// RedeliverSummary is the outcome of one run.
type RedeliverSummary struct {
	Listed           int      `json:"listed"`            // delivery entries seen within the window
	Pages            int      `json:"pages"`             // listing pages fetched
	GUIDs            int      `json:"guids"`             // distinct GUIDs within the window
	Stored           int      `json:"stored"`            // GUIDs ghsync has
	Missing          int      `json:"missing"`           // GUIDs ghsync never stored
	Requested        int      `json:"requested"`         // redeliveries requested now
	AlreadyRequested int      `json:"already_requested"` // missing, but requested by an earlier run
	OverLimit        int      `json:"over_limit"`        // missing, left for the next run (MaxRequests)
	Failed           int      `json:"failed"`            // requests GitHub refused
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
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sum := &RedeliverSummary{DryRun: o.DryRun}
	cutoff := time.Now().Add(-o.Window)
	// Newest first; per GUID keep the original (non-redelivery) entry when listed.
	byGUID := map[string]hookDelivery{}
	var order []string
	next := app.BaseURL + "app/hook/deliveries?per_page=" + strconv.Itoa(o.PerPage)
	for next != "" {
		page, link, err := listPage(ctx, app, next)
		if err != nil {
			return sum, err
		}
		sum.Pages++
		next = link
		for _, it := range page {
			if it.DeliveredAt.Before(cutoff) {
				next = ""
				continue
			}
			sum.Listed++
			prev, seen := byGUID[it.GUID]
			if !seen {
				order = append(order, it.GUID)
			}
			if !seen || (prev.Redelivery && !it.Redelivery) {
				byGUID[it.GUID] = it
			}
		}
	}
	sum.GUIDs = len(order)
	stored, err := storedGUIDs(ctx, d, "deliveries", "delivery_id", order)
	if err != nil {
		return sum, err
	}
	requested, err := storedGUIDs(ctx, d, "redelivery_requests", "guid", order)
	if err != nil {
		return sum, err
	}
	var failures []string
	// Oldest first, so a bounded run repairs in arrival order.
	for i := len(order) - 1; i >= 0; i-- {
		g := order[i]
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
		if sum.Requested+sum.Failed >= o.MaxRequests {
			sum.OverLimit++
			continue
		}
		it := byGUID[g]
		if o.DryRun {
			sum.Requested++
			sum.RequestedGUIDs = append(sum.RequestedGUIDs, g)
			continue
		}
		if err := requestRedelivery(ctx, app, it.ID); err != nil {
			sum.Failed++
			failures = append(failures, fmt.Sprintf("%s (delivery %d): %v", g, it.ID, err))
			log.Warn("redelivery request failed", "guid", g, "delivery", it.ID, "err", err)
			continue
		}
		if _, err := d.Exec(ctx, `INSERT INTO redelivery_requests (guid, github_delivery_id, event, requested_at) VALUES (?, ?, ?, ?)
 ON CONFLICT (guid) DO NOTHING`, g, it.ID, it.Event, db.Now()); err != nil {
			return sum, fmt.Errorf("record redelivery of %s: %w", g, err)
		}
		sum.Requested++
		sum.RequestedGUIDs = append(sum.RequestedGUIDs, g)
		log.Info("redelivery requested", "guid", g, "event", it.Event, "github_status", it.StatusCode)
	}
	m.redelivered(sum)
	if len(failures) > 0 {
		return sum, fmt.Errorf("redeliver: %d request(s) failed: %s", len(failures), strings.Join(failures, "; "))
	}
	return sum, nil
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
