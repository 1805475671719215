// Package apisynctest holds fakes of the third-party APIs that API table sync
// reads: Airtable ([Airtable]) and Badgr ([Badgr]). They follow the published
// behaviour listed in docs/api-sync.md: Airtable's offset paging, omitted empty
// fields, its 5-requests-per-second-per-base limit answered with 429 and a
// penalty, the expired-iterator 422; Badgr's OAuth token endpoint, the
// {status, result} envelope and Link-header paging.
package apisynctest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AirtableRecord is one record held by the fake.
type AirtableRecord struct {
	ID          string
	CreatedTime string
	Fields      map[string]any
}

// Injection is a failure the fake answers once instead of a page.
type Injection int

const (
	// Inject500 answers 500 SERVER_ERROR.
	Inject500 Injection = iota + 1
	// InjectExpired answers 422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE.
	InjectExpired
	// Inject429 answers 429 RATE_LIMIT_REACHED (without starting a penalty).
	Inject429
	// InjectForbidden answers 403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND.
	InjectForbidden
)

// Airtable is a fake Airtable Web API (GET /v0/{base}/{table} only), with a
// real per-base rate limiter. Create it with [NewAirtable]; safe for
// concurrent use.
type Airtable struct {
	// Server is the running fake; its URL is the api_url to configure.
	Server *httptest.Server
	// Token is the personal access token the fake accepts.
	Token string
	// LimitPerSecond is the per-base limit (5, as Airtable); 0 disables it.
	LimitPerSecond int
	// Penalty is how long a base answers 429 after exceeding the limit (30 s
	// as Airtable; tests may shorten it).
	Penalty time.Duration

	mu         sync.Mutex
	tables     map[string][]AirtableRecord // base/table → records in order
	views      map[string]map[string]bool  // base/table/view → record ids in the view
	gen        int                         // iterator generation; offsets of older ones expire
	inject     map[int][]Injection         // page index → failures to answer, in order
	window     map[string][]time.Time      // base → request times in the last second
	penalty    map[string]time.Time        // base → penalty end
	violations int                         // requests that exceeded the limit
	maxWindow  int                         // the most requests seen in one second for one base
	requests   int
	pages      int
	formulas   []string
	fieldsSeen [][]string
}

// NewAirtable starts a fake Airtable accepting token; it is closed when the
// test ends.
func NewAirtable(t interface{ Cleanup(func()) }, token string) *Airtable {
	a := &Airtable{
		Token: token, LimitPerSecond: 5, Penalty: 30 * time.Second,
		tables: map[string][]AirtableRecord{}, views: map[string]map[string]bool{},
		inject: map[int][]Injection{}, window: map[string][]time.Time{}, penalty: map[string]time.Time{},
	}
	a.Server = httptest.NewServer(a)
	t.Cleanup(a.Server.Close)
	return a
}

// URL is the fake's api_url.
func (a *Airtable) URL() string { return a.Server.URL }

// SetRecords replaces a table's records.
func (a *Airtable) SetRecords(base, table string, recs []AirtableRecord) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tables[base+"/"+table] = append([]AirtableRecord(nil), recs...)
}

// Records returns a copy of a table's records.
func (a *Airtable) Records(base, table string) []AirtableRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]AirtableRecord(nil), a.tables[base+"/"+table]...)
}

// SetView defines a view as the set of record ids it shows.
func (a *Airtable) SetView(base, table, view string, ids []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	a.views[base+"/"+table+"/"+view] = m
}

// ExpireIterators makes every offset handed out so far invalid (Airtable's
// iterators expire), so the next request carrying one gets the 422.
func (a *Airtable) ExpireIterators() {
	a.mu.Lock()
	a.gen++
	a.mu.Unlock()
}

// InjectAt makes the next request for page index page (0 = first page)
// answer the failure instead, once per call.
func (a *Airtable) InjectAt(page int, f Injection) {
	a.mu.Lock()
	a.inject[page] = append(a.inject[page], f)
	a.mu.Unlock()
}

// Violations is the number of requests that exceeded LimitPerSecond for their
// base (answered 429 and penalised).
func (a *Airtable) Violations() int { a.mu.Lock(); defer a.mu.Unlock(); return a.violations }

// MaxPerSecond is the most requests seen for one base within one second.
func (a *Airtable) MaxPerSecond() int { a.mu.Lock(); defer a.mu.Unlock(); return a.maxWindow }

// Requests is the number of requests received.
func (a *Airtable) Requests() int { a.mu.Lock(); defer a.mu.Unlock(); return a.requests }

// Formulas are the filterByFormula values received, in order.
func (a *Airtable) Formulas() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.formulas...)
}

// FieldsRequested are the fields[] lists received, in order.
func (a *Airtable) FieldsRequested() [][]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([][]string(nil), a.fieldsSeen...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func airErr(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"type": typ, "message": msg}})
}

// rateLimitBody is Airtable's 429 body.
var rateLimitBody = map[string]any{"errors": []map[string]string{{
	"error":   "RATE_LIMIT_REACHED",
	"message": "Rate limit exceeded. Please try again later",
}}}

func (a *Airtable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if r.Method != http.MethodGet || len(parts) != 3 || parts[0] != "v0" {
		airErr(w, http.StatusNotFound, "NOT_FOUND", "Could not find what you are looking for")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+a.Token {
		airErr(w, http.StatusUnauthorized, "AUTHENTICATION_REQUIRED", "Authentication required")
		return
	}
	base := parts[1]
	if a.limited(base) {
		writeJSON(w, http.StatusTooManyRequests, rateLimitBody)
		return
	}
	table, err := urlUnescape(parts[2])
	if err != nil {
		airErr(w, http.StatusNotFound, "NOT_FOUND", "bad table")
		return
	}
	recs, ok := a.tables[base+"/"+table]
	if !ok {
		airErr(w, http.StatusNotFound, "TABLE_NOT_FOUND", "Could not find table "+table+" in the base")
		return
	}
	q := r.URL.Query()
	size := 100
	if s := q.Get("pageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			airErr(w, http.StatusUnprocessableEntity, "INVALID_REQUEST_UNKNOWN", "pageSize must be between 1 and 100")
			return
		}
		size = n
	}
	start := 0
	if off := q.Get("offset"); off != "" {
		var gen, pos int
		if _, err := fmt.Sscanf(off, "itr%d/%d", &gen, &pos); err != nil || gen != a.gen || pos < 0 {
			airErr(w, http.StatusUnprocessableEntity, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE", "The iterator is not available")
			return
		}
		start = pos
	}
	page := start / size
	if fs := a.inject[page]; len(fs) > 0 {
		a.inject[page] = fs[1:]
		switch fs[0] {
		case Inject500:
			airErr(w, http.StatusInternalServerError, "SERVER_ERROR", "Try again. If the problem persists, contact support.")
		case InjectExpired:
			airErr(w, http.StatusUnprocessableEntity, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE", "The iterator is not available")
		case Inject429:
			writeJSON(w, http.StatusTooManyRequests, rateLimitBody)
		case InjectForbidden:
			airErr(w, http.StatusForbidden, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", "Invalid permissions, or the requested model was not found.")
		}
		return
	}
	if v := q.Get("view"); v != "" {
		in, ok := a.views[base+"/"+table+"/"+v]
		if !ok {
			airErr(w, http.StatusUnprocessableEntity, "VIEW_NAME_NOT_FOUND", "Could not find view "+v)
			return
		}
		var sub []AirtableRecord
		for _, rec := range recs {
			if in[rec.ID] {
				sub = append(sub, rec)
			}
		}
		recs = sub
	}
	if f := q.Get("filterByFormula"); f != "" {
		a.formulas = append(a.formulas, f) // recorded, not evaluated
	}
	fields := q["fields[]"]
	if len(fields) > 0 {
		a.fieldsSeen = append(a.fieldsSeen, fields)
	}
	a.pages++
	end := min(start+size, len(recs))
	out := map[string]any{}
	list := make([]map[string]any, 0, max(0, end-start))
	for _, rec := range recs[min(start, len(recs)):end] {
		list = append(list, map[string]any{"id": rec.ID, "createdTime": rec.CreatedTime, "fields": visibleFields(rec.Fields, fields)})
	}
	out["records"] = list
	if end < len(recs) {
		out["offset"] = fmt.Sprintf("itr%d/%d", a.gen, end)
	}
	writeJSON(w, http.StatusOK, out)
}

// limited records the request against its base's one-second window and
// reports whether it must be refused (over the limit, or in a penalty).
func (a *Airtable) limited(base string) bool {
	if a.LimitPerSecond <= 0 {
		return false
	}
	now := time.Now()
	if now.Before(a.penalty[base]) {
		return true
	}
	win := a.window[base]
	i := 0
	for i < len(win) && now.Sub(win[i]) >= time.Second {
		i++
	}
	win = append(win[i:], now)
	a.window[base] = win
	if len(win) > a.maxWindow {
		a.maxWindow = len(win)
	}
	if len(win) > a.LimitPerSecond {
		a.violations++
		a.penalty[base] = now.Add(a.Penalty)
		return true
	}
	return false
}

// visibleFields drops empty values ("", [], false, null), as Airtable omits
// them, and keeps only the fields[] asked for.
func visibleFields(f map[string]any, only []string) map[string]any {
	out := map[string]any{}
	keep := func(k string) bool {
		if len(only) == 0 {
			return true
		}
		for _, o := range only {
			if o == k {
				return true
			}
		}
		return false
	}
	for k, v := range f {
		if !keep(k) || isEmpty(v) {
			continue
		}
		out[k] = v
	}
	return out
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case []any:
		return len(x) == 0
	case []string:
		return len(x) == 0
	}
	return false
}
