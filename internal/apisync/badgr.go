package apisync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

type badgrClient struct {
	deps Deps
	root *url.URL
	auth *badgrAuth
	sum  *Summary
}

// envelope is Badgr's response shape: {"status": {...}, "result": [...]}.
type envelope struct {
	Status *struct {
		Success     bool   `json:"success"`
		Description string `json:"description"`
	} `json:"status"`
	Result []json.RawMessage `json:"result"`
}

// get fetches one list page: the envelope's results and the Link rel="next"
// URL. A 401 renews the token once; network errors, bodies cut short and
// 5xx are retried (maxTransient); 429 is waited out (its Retry-After, at most
// maxRetryAfter) up to maxRateLimited times.
func (c *badgrClient) get(ctx context.Context, u string) ([]json.RawMessage, string, error) {
	path := u
	if pu, err := url.Parse(u); err == nil {
		path = pu.Path
	}
	where := "badgr GET " + path
	reauthed, transient, limited := false, 0, 0
	for {
		tok, err := c.auth.token()
		if err != nil {
			return nil, "", err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", where, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		c.sum.Requests++
		resp, err := c.deps.HTTP.Do(req)
		if err != nil {
			if ctx.Err() != nil || transient >= maxTransient {
				return nil, "", fmt.Errorf("%s: %w", where, err)
			}
			transient++
			if err := c.deps.Sleep(ctx, time.Duration(transient)*time.Second); err != nil {
				return nil, "", err
			}
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		resp.Body.Close()
		if err != nil {
			// A connection cut while reading: the GET is fetched again.
			if ctx.Err() != nil || transient >= maxTransient {
				return nil, "", fmt.Errorf("%s: read response: %w", where, err)
			}
			transient++
			c.deps.Logger.Warn("badgr response cut short; retrying", "path", path, "err", err, "attempt", transient)
			if err := c.deps.Sleep(ctx, time.Duration(transient)*time.Second); err != nil {
				return nil, "", err
			}
			continue
		}
		if resp.StatusCode == http.StatusTooManyRequests && limited < maxRateLimited {
			limited++
			c.sum.RateLimited++
			wait := retryAfter(resp.Header, time.Duration(limited)*time.Second)
			c.deps.Logger.Warn("badgr rate limit reached; waiting", "path", path, "wait", wait.String(), "attempt", limited)
			if err := c.deps.Sleep(ctx, wait); err != nil {
				return nil, "", err
			}
			continue
		}
		if resp.StatusCode == http.StatusUnauthorized && !reauthed {
			reauthed = true
			c.deps.Logger.Info("badgr answered 401; renewing the token once", "path", path)
			c.auth.invalidate()
			continue
		}
		if resp.StatusCode >= 500 && transient < maxTransient {
			transient++
			c.deps.Logger.Warn("badgr server error; retrying", "path", path, "status", resp.StatusCode, "attempt", transient)
			if err := c.deps.Sleep(ctx, time.Duration(transient)*time.Second); err != nil {
				return nil, "", err
			}
			continue
		}
		var env envelope
		jerr := json.Unmarshal(body, &env)
		switch {
		case jerr == nil && env.Status != nil && !env.Status.Success:
			return nil, "", fmt.Errorf("%s: HTTP %d, status.success false: status.description %q", where, resp.StatusCode, env.Status.Description)
		case resp.StatusCode != http.StatusOK:
			return nil, "", fmt.Errorf("%s: HTTP %d: %s", where, resp.StatusCode, snippet(body))
		case jerr != nil:
			return nil, "", fmt.Errorf("%s: decode envelope: %w", where, jerr)
		case env.Status == nil:
			return nil, "", fmt.Errorf("%s: response has no status envelope: %s", where, snippet(body))
		}
		next := nextLink(resp.Header)
		if next != "" {
			nu, err := c.root.Parse(next)
			if err != nil || nu.Scheme != c.root.Scheme || nu.Host != c.root.Host {
				return nil, "", fmt.Errorf("%s: Link rel=next %q is not on %s; refusing to send the token there", where, next, c.root.Host)
			}
			next = nu.String()
		}
		return env.Result, next, nil
	}
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// SyncBadgr copies an issuer's badge classes and assertions (revoked and
// expired included) into two tables keyed on entityId: recipient is flattened
// into recipient_identity, recipient_type, recipient_hashed and
// recipient_plaintextIdentity, the first evidence entry into evidence_url and
// evidence_narrative; other objects and lists are stored as JSON (lists of
// scalars comma-joined unless lists: json). Each page is one transaction; with
// DeleteMissing, rows not listed are deleted after that table's complete
// listing.
func SyncBadgr(ctx context.Context, deps Deps, cfg BadgrConfig, opts RunOptions) (*Summary, error) {
	sum := newSummary("badgr", opts.DryRun)
	if errs := cfg.Validate(); len(errs) > 0 {
		return sum, fmt.Errorf("badgr job: %w", joinFieldErrors(errs))
	}
	deps, err := deps.withDefaults()
	if err != nil {
		return sum, err
	}
	start := deps.Now()
	defer sum.finish(start, deps.Now)
	root, err := url.Parse(strings.TrimRight(cfg.APIURL, "/"))
	if err != nil {
		return sum, fmt.Errorf("badgr: api_url: %w", err)
	}
	c := &badgrClient{deps: deps, root: root, auth: newBadgrAuth(ctx, deps, cfg, root.String(), sum), sum: sum}
	num := cfg.PageSize
	if num == 0 {
		num = 100
	}
	badges, assertions := cfg.tableNames()
	issuer := root.String() + "/v2/issuers/" + url.PathEscape(cfg.Issuer)
	lists := []struct{ table, url string }{
		{badges, issuer + "/badgeclasses?num=" + strconv.Itoa(num)},
		{assertions, issuer + "/assertions?include_revoked=true&include_expired=true&num=" + strconv.Itoa(num)},
	}
	for _, l := range lists {
		ts, err := newTableSync(ctx, deps.DB, tableSyncOpts{
			table: l.table, key: "entityId", requireTable: cfg.RequireTable, deleteMissing: cfg.DeleteMissing,
		}, opts.DryRun, deps.Logger, sum)
		if err != nil {
			return sum, fmt.Errorf("badgr → %s: %w", l.table, err)
		}
		next := l.url
		for next != "" {
			results, n, err := c.get(ctx, next)
			if err != nil {
				return sum, fmt.Errorf("%w (listing of %s incomplete: nothing deleted)", err, l.table)
			}
			sum.Pages++
			rows := make([]row, 0, len(results))
			for i, raw := range results {
				r, err := badgrRow(raw, cfg.Lists)
				if err != nil {
					return sum, fmt.Errorf("badgr → %s: result %d of page %d: %w", l.table, i, sum.Pages, err)
				}
				rows = append(rows, r)
			}
			if err := ts.page(ctx, rows); err != nil {
				return sum, err
			}
			next = n
		}
		if err := ts.finish(ctx); err != nil {
			return sum, err
		}
		tc := sum.Tables[l.table]
		deps.Logger.Info("badgr table synced", "table", l.table, "inserted", tc.Inserted, "updated", tc.Updated,
			"unchanged", tc.Unchanged, "deleted", tc.Deleted)
	}
	return sum, nil
}

// badgrRow flattens one badge class or assertion.
func badgrRow(raw json.RawMessage, lists string) (row, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return row{}, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return row{}, errors.New("not a JSON object")
	}
	vals := make(map[string]any, len(obj)+6)
	for k, x := range obj {
		switch k {
		case "recipient":
			m, _ := x.(map[string]any)
			for _, sub := range []string{"identity", "type", "hashed", "plaintextIdentity"} {
				if vals["recipient_"+sub], err = normalize(m[sub], lists); err != nil {
					return row{}, fmt.Errorf("recipient.%s: %w", sub, err)
				}
			}
			continue
		case "evidence":
			var first map[string]any
			if l, ok := x.([]any); ok && len(l) > 0 {
				first, _ = l[0].(map[string]any)
			}
			for _, sub := range []string{"url", "narrative"} {
				if vals["evidence_"+sub], err = normalize(first[sub], lists); err != nil {
					return row{}, fmt.Errorf("evidence[0].%s: %w", sub, err)
				}
			}
			continue
		}
		if msg := checkColumnName(k); msg != "" || strings.EqualFold(k, hashColumn) {
			return row{}, fmt.Errorf("field %q cannot be a column: %s", k, msg)
		}
		if vals[k], err = normalize(x, lists); err != nil {
			return row{}, fmt.Errorf("field %q: %w", k, err)
		}
	}
	id, _ := vals["entityId"].(string)
	if id == "" {
		return row{}, errors.New("no entityId")
	}
	return row{Key: id, Values: vals}, nil
}

// maxRetryAfter bounds a Retry-After wait.
const maxRetryAfter = time.Minute

// retryAfter is the wait a 429's Retry-After asks for (seconds or an HTTP
// date), at most maxRetryAfter; def when absent or unreadable.
func retryAfter(h http.Header, def time.Duration) time.Duration {
	v := h.Get("Retry-After")
	d := def
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	if d < 0 {
		d = 0
	}
	if d > maxRetryAfter {
		d = maxRetryAfter
	}
	return d
}
