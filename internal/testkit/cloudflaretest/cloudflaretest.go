// Package cloudflaretest is a fake of Cloudflare's cache purge API
// (POST /client/v4/zones/{zone_id}/purge_cache) for tests, held to the
// published request and response shapes
// (developers.cloudflare.com/api/resources/cache/methods/purge/): a Bearer
// token, a JSON body that is exactly one of the purge forms — {"files":
// [URL…]} (absolute http(s) URLs) or {"prefixes": [host/path…]} (no
// scheme) — with 1 to 30 entries (the per-call limit of the single-file and
// prefix purge pages), answered with the v4 envelope {"success", "errors",
// "messages", "result": {"id"}}. A request breaking the shapes is answered
// 400 with success false and recorded as a violation, which fails the test.
package cloudflaretest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// MaxPerCall is the most files or prefixes the fake accepts in one call.
const MaxPerCall = 30

// Purge is one accepted purge call.
type Purge struct {
	Zone     string
	Files    []string
	Prefixes []string
}

// Server is the fake API.
type Server struct {
	// URL is the API base ("http://127.0.0.1:PORT/client/v4").
	URL   string
	Token string

	mu         sync.Mutex
	purges     []Purge
	fail       int // answer the next fail calls with a 5xx
	violations []string
	n          int
}

// New starts the fake for token; it is closed at t.Cleanup, and the test
// fails then if any request broke the published shapes.
func New(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{Token: token}
	mux := http.NewServeMux()
	mux.HandleFunc("/client/v4/zones/{zone}/purge_cache", s.purge)
	srv := httptest.NewServer(mux)
	s.URL = srv.URL + "/client/v4"
	t.Cleanup(func() {
		srv.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, v := range s.violations {
			t.Errorf("Cloudflare fake: request broke the published API shape: %s", v)
		}
	})
	return s
}

// Fail makes the next n calls answer 503 with Cloudflare's error envelope.
func (s *Server) Fail(n int) {
	s.mu.Lock()
	s.fail = n
	s.mu.Unlock()
}

// Purges returns the accepted purge calls, in order.
func (s *Server) Purges() []Purge {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Purge(nil), s.purges...)
}

type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (s *Server) reply(w http.ResponseWriter, status int, id string, errs ...apiError) {
	body := map[string]any{"success": len(errs) == 0, "errors": errs, "messages": []any{}, "result": nil}
	if errs == nil {
		body["errors"] = []apiError{}
		body["result"] = map[string]string{"id": id}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) purge(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bad := func(status int, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		s.violations = append(s.violations, msg)
		s.reply(w, status, "", apiError{Code: 1012, Message: msg})
	}
	if r.Method != http.MethodPost {
		bad(http.StatusMethodNotAllowed, "method %s, want POST", r.Method)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		s.reply(w, http.StatusForbidden, "", apiError{Code: 10000, Message: "Authentication error"})
		s.violations = append(s.violations, "missing or wrong Bearer token")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		bad(http.StatusBadRequest, "Content-Type %q, want application/json", ct)
		return
	}
	zone := r.PathValue("zone")
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var req struct {
		Files    []string `json:"files"`
		Prefixes []string `json:"prefixes"`
	}
	if err := dec.Decode(&req); err != nil {
		bad(http.StatusBadRequest, "body: %v", err)
		return
	}
	n := len(req.Files) + len(req.Prefixes)
	switch {
	case len(req.Files) > 0 && len(req.Prefixes) > 0:
		bad(http.StatusBadRequest, "files and prefixes in one request (the purge forms are exclusive)")
		return
	case n == 0:
		bad(http.StatusBadRequest, "no files or prefixes")
		return
	case n > MaxPerCall:
		bad(http.StatusBadRequest, "%d entries in one call, the limit is %d", n, MaxPerCall)
		return
	}
	for _, f := range req.Files {
		u, err := url.Parse(f)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(http.StatusBadRequest, "files entry %q is not an absolute http(s) URL", f)
			return
		}
	}
	for _, p := range req.Prefixes {
		if strings.Contains(p, "://") || strings.HasPrefix(p, "/") || p == "" {
			bad(http.StatusBadRequest, "prefixes entry %q must be host/path without a scheme", p)
			return
		}
	}
	if s.fail > 0 {
		s.fail--
		s.reply(w, http.StatusServiceUnavailable, "", apiError{Code: 10013, Message: "service temporarily unavailable"})
		return
	}
	s.n++
	s.purges = append(s.purges, Purge{Zone: zone, Files: req.Files, Prefixes: req.Prefixes})
	s.reply(w, http.StatusOK, fmt.Sprintf("%032x", s.n))
}
