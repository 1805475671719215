package apisync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// Airtable API facts (see docs/api-sync.md for the sources).
const (
	// AirtablePenalty is how long Airtable refuses a base after a 429.
	AirtablePenalty = 30 * time.Second
	// maxRateLimited is how many 429s one request may wait out before failing.
	maxRateLimited = 8
	// maxRestarts bounds listings restarted after an expired offset.
	maxRestarts = 3
	// maxTransient is how many times a request is retried after a network
	// error or a 5xx.
	maxTransient = 3
)

// errIteratorExpired is Airtable's 422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE.
var errIteratorExpired = errors.New("airtable: LIST_RECORDS_ITERATOR_NOT_AVAILABLE (the listing's offset expired)")

type airtableRecord struct {
	ID          string                     `json:"id"`
	CreatedTime string                     `json:"createdTime"`
	Fields      map[string]json.RawMessage `json:"fields"`
}

type airtablePage struct {
	Records []airtableRecord `json:"records"`
	Offset  string           `json:"offset"`
}

type airtableClient struct {
	deps    Deps
	cfg     AirtableConfig
	root    string // API root without trailing slash
	limKey  string
	tokenFP string // SHA-256 prefix of the token: the per-token limiter's key
	sum     *Summary
	maxBody int64
}

func newAirtableClient(deps Deps, cfg AirtableConfig, sum *Summary) *airtableClient {
	root := strings.TrimRight(cfg.APIURL, "/")
	if root == "" {
		root = DefaultAirtableURL
	}
	fp := sha256.Sum256([]byte(root + "|" + cfg.Token.Reveal()))
	return &airtableClient{deps: deps, cfg: cfg, root: root, limKey: root + "|" + cfg.Base,
		tokenFP: hex.EncodeToString(fp[:8]), sum: sum, maxBody: 64 << 20}
}

// pageURL is GET /v0/{base}/{table}?pageSize=…[&offset=…][&view=…][&filterByFormula=…][&fields[]=…].
func (c *airtableClient) pageURL(offset string, fields []string) string {
	q := url.Values{}
	size := c.cfg.PageSize
	if size == 0 {
		size = 100
	}
	q.Set("pageSize", strconv.Itoa(size))
	if offset != "" {
		q.Set("offset", offset)
	}
	if c.cfg.View != "" {
		q.Set("view", c.cfg.View)
	}
	if c.cfg.Filter != "" {
		q.Set("filterByFormula", c.cfg.Filter)
	}
	for _, f := range fields {
		q.Add("fields[]", f)
	}
	return c.root + "/v0/" + url.PathEscape(c.cfg.Base) + "/" + url.PathEscape(c.cfg.Table) + "?" + q.Encode()
}

// listPage fetches one page, pacing on the base's shared limiter, waiting out
// 429s and retrying transient failures. An expired offset is errIteratorExpired.
func (c *airtableClient) listPage(ctx context.Context, offset string, fields []string) (*airtablePage, error) {
	u := c.pageURL(offset, fields)
	where := fmt.Sprintf("airtable %s/%s", c.cfg.Base, c.cfg.Table)
	limited, transient := 0, 0
	for {
		if err := c.deps.Limiters.wait(ctx, c.limKey, c.deps.Now, c.deps.Sleep); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if err := c.deps.Limiters.waitToken(ctx, c.tokenFP); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token.Reveal())
		req.Header.Set("Accept", "application/json")
		c.sum.Requests++
		resp, err := c.deps.HTTP.Do(req)
		if err != nil {
			if ctx.Err() != nil || transient >= maxTransient {
				return nil, fmt.Errorf("%s: list records: %w", where, err)
			}
			transient++
			c.deps.Logger.Warn("airtable request failed; retrying", "base", c.cfg.Base, "table", c.cfg.Table, "err", err, "attempt", transient)
			if err := c.deps.Sleep(ctx, time.Duration(transient)*time.Second); err != nil {
				return nil, err
			}
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody))
		resp.Body.Close()
		if err != nil {
			// A connection cut while reading (reset, body shorter than its
			// Content-Length): the GET is fetched again, like a network error.
			if ctx.Err() != nil || transient >= maxTransient {
				return nil, fmt.Errorf("%s: read response: %w", where, err)
			}
			transient++
			c.deps.Logger.Warn("airtable response cut short; retrying", "base", c.cfg.Base, "table", c.cfg.Table, "err", err, "attempt", transient)
			if err := c.deps.Sleep(ctx, time.Duration(transient)*time.Second); err != nil {
				return nil, err
			}
			continue
		}
		switch {
		case resp.StatusCode == http.StatusOK:
			var p airtablePage
			if err := json.Unmarshal(body, &p); err != nil {
				return nil, fmt.Errorf("%s: decode page: %w", where, err)
			}
			return &p, nil
		case resp.StatusCode == http.StatusTooManyRequests:
			limited++
			c.sum.RateLimited++
			if limited > maxRateLimited {
				return nil, fmt.Errorf("%s: still rate limited (429 %s) after %d waits of %s", where, airtableErrType(body), maxRateLimited, AirtablePenalty)
			}
			c.deps.Logger.Warn("airtable rate limit reached; waiting out the penalty", "base", c.cfg.Base, "wait", AirtablePenalty.String())
			c.deps.Limiters.penalize(c.limKey, c.deps.Now().Add(AirtablePenalty))
			continue
		case resp.StatusCode == http.StatusUnprocessableEntity && airtableErrType(body) == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE":
			return nil, errIteratorExpired
		case resp.StatusCode >= 500 && transient < maxTransient:
			transient++
			c.deps.Logger.Warn("airtable server error; retrying", "base", c.cfg.Base, "status", resp.StatusCode, "attempt", transient)
			if err := c.deps.Sleep(ctx, time.Duration(transient)*time.Second); err != nil {
				return nil, err
			}
			continue
		default:
			return nil, fmt.Errorf("%s: HTTP %d %s", where, resp.StatusCode, airtableErrText(body))
		}
	}
}

// airtableErrBody covers Airtable's error shapes: {"error": "TYPE"},
// {"error": {"type", "message"}} and {"errors": [{"error", "message"}]}.
type airtableErrBody struct {
	Error  json.RawMessage `json:"error"`
	Errors []struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	} `json:"errors"`
}

func parseAirtableErr(body []byte) (typ, msg string) {
	var e airtableErrBody
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	if len(e.Errors) > 0 {
		return e.Errors[0].Error, e.Errors[0].Message
	}
	var s string
	if json.Unmarshal(e.Error, &s) == nil {
		return s, ""
	}
	var o struct{ Type, Message string }
	if json.Unmarshal(e.Error, &o) == nil {
		return o.Type, o.Message
	}
	return "", ""
}

func airtableErrType(body []byte) string { t, _ := parseAirtableErr(body); return t }

func airtableErrText(body []byte) string {
	t, m := parseAirtableErr(body)
	switch {
	case t != "" && m != "":
		return t + ": " + m
	case t != "":
		return t
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
