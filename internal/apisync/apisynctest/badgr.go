package apisynctest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Badgr is a fake Badgr server (badgr-server's v2 API): the OAuth token
// endpoint POST /o/token (password and refresh_token grants, form-encoded),
// GET /v2/issuers/{id}/badgeclasses and /v2/issuers/{id}/assertions, every
// answer in the {"status": {"success", "description"}, "result": [...]}
// envelope, lists paged only when num is given, the next page in the Link
// header. Create it with [NewBadgr]; safe for concurrent use.
type Badgr struct {
	Server   *httptest.Server
	Username string
	Password string
	// TokenTTL is the expires_in of issued tokens (default 24 h as Badgr).
	TokenTTL time.Duration

	mu          sync.Mutex
	badges      map[string][]map[string]any // issuer → badge classes
	assertions  map[string][]map[string]any // issuer → assertions
	tokens      map[string]time.Time        // access token → expiry
	refresh     map[string]bool             // valid refresh tokens
	grants      map[string]int              // grant_type → count
	unauth      int                         // requests answered 401
	failNext    string                      // envelope failure description for the next list request
	listQueries []url.Values
}

// NewBadgr starts a fake Badgr accepting username/password; closed when the
// test ends.
func NewBadgr(t interface{ Cleanup(func()) }, username, password string) *Badgr {
	b := &Badgr{
		Username: username, Password: password, TokenTTL: 24 * time.Hour,
		badges: map[string][]map[string]any{}, assertions: map[string][]map[string]any{},
		tokens: map[string]time.Time{}, refresh: map[string]bool{}, grants: map[string]int{},
	}
	b.Server = httptest.NewServer(b)
	t.Cleanup(b.Server.Close)
	return b
}

// URL is the fake's api_url.
func (b *Badgr) URL() string { return b.Server.URL }

// SetBadgeClasses replaces an issuer's badge classes (objects as Badgr's v2
// BadgeClass: entityId, name, …).
func (b *Badgr) SetBadgeClasses(issuer string, list []map[string]any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.badges[issuer] = list
}

// SetAssertions replaces an issuer's assertions (objects as Badgr's v2
// Assertion: entityId, badgeclass, recipient{…}, evidence[…], revoked, …).
func (b *Badgr) SetAssertions(issuer string, list []map[string]any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.assertions[issuer] = list
}

// ExpireTokens makes every access token issued so far expired: requests
// carrying one are answered 401 (refresh tokens stay valid).
func (b *Badgr) ExpireTokens() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.tokens {
		b.tokens[k] = time.Time{}
	}
}

// FailNext makes the next list request answer 400 with status.success false
// and this description.
func (b *Badgr) FailNext(description string) {
	b.mu.Lock()
	b.failNext = description
	b.mu.Unlock()
}

// Grants returns how many tokens were granted by grant_type ("password",
// "refresh_token").
func (b *Badgr) Grants() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]int{}
	for k, v := range b.grants {
		out[k] = v
	}
	return out
}

// Unauthorized is the number of requests answered 401.
func (b *Badgr) Unauthorized() int { b.mu.Lock(); defer b.mu.Unlock(); return b.unauth }

// ListQueries are the query strings of the list requests, in order.
func (b *Badgr) ListQueries() []url.Values {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]url.Values(nil), b.listQueries...)
}

func randToken() string {
	var r [16]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

func envelope(w http.ResponseWriter, status int, success bool, desc string, result []map[string]any) {
	if result == nil {
		result = []map[string]any{}
	}
	writeJSON(w, status, map[string]any{
		"status": map[string]any{"success": success, "description": desc},
		"result": result,
	})
}

func (b *Badgr) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.URL.Path == "/o/token" {
		b.token(w, r)
		return
	}
	auth := r.Header.Get("Authorization")
	exp, ok := b.tokens[strings.TrimPrefix(auth, "Bearer ")]
	if !strings.HasPrefix(auth, "Bearer ") || !ok || time.Now().After(exp) {
		b.unauth++
		writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Authentication credentials were not provided."})
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method != http.MethodGet || len(parts) != 4 || parts[0] != "v2" || parts[1] != "issuers" {
		envelope(w, http.StatusNotFound, false, "Not found", nil)
		return
	}
	issuer, kind := parts[2], parts[3]
	var list []map[string]any
	var known bool
	switch kind {
	case "badgeclasses":
		list, known = b.badges[issuer]
	case "assertions":
		list, known = b.assertions[issuer]
		if _, k := b.badges[issuer]; k {
			known = true
		}
	default:
		envelope(w, http.StatusNotFound, false, "Not found", nil)
		return
	}
	if !known {
		envelope(w, http.StatusNotFound, false, "Could not find issuer", nil)
		return
	}
	q := r.URL.Query()
	b.listQueries = append(b.listQueries, q)
	if b.failNext != "" {
		d := b.failNext
		b.failNext = ""
		envelope(w, http.StatusBadRequest, false, d, nil)
		return
	}
	if kind == "assertions" {
		var keep []map[string]any
		for _, a := range list {
			if rev, _ := a["revoked"].(bool); rev && q.Get("include_revoked") != "true" {
				continue
			}
			keep = append(keep, a)
		}
		list = keep
	}
	num, _ := strconv.Atoi(q.Get("num"))
	if num <= 0 { // no num: everything, no paging
		envelope(w, http.StatusOK, true, "ok", list)
		return
	}
	start := 0
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(c, "c"))
		if err != nil || n < 0 || n > len(list) {
			envelope(w, http.StatusBadRequest, false, "Invalid cursor", nil)
			return
		}
		start = n
	}
	end := min(start+num, len(list))
	if end < len(list) {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("cursor", fmt.Sprintf("c%d", end))
		next := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: nq.Encode()}
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, next.String()))
	}
	envelope(w, http.StatusOK, true, "ok", list[start:end])
}

// token implements POST /o/token (application/x-www-form-urlencoded).
func (b *Badgr) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	gt := r.PostForm.Get("grant_type")
	switch gt {
	case "password":
		if r.PostForm.Get("username") != b.Username || r.PostForm.Get("password") != b.Password {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Invalid credentials given."})
			return
		}
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		if !b.refresh[rt] {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		delete(b.refresh, rt) // refresh tokens are rotated
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	b.grants[gt]++
	at, rt := randToken(), randToken()
	b.tokens[at] = time.Now().Add(b.TokenTTL)
	b.refresh[rt] = true
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": at, "token_type": "Bearer", "expires_in": int(b.TokenTTL / time.Second),
		"refresh_token": rt, "scope": "rw:profile rw:issuer rw:backpack",
	})
}
