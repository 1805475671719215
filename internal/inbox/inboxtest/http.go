package inboxtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Request is one request an Endpoint received.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// Endpoint is an HTTP server recording every request. It answers FailFirst
// requests with FailStatus (default 503), then Status (default 200) with Reply.
type Endpoint struct {
	URL string

	mu         sync.Mutex
	reqs       []Request
	failFirst  int
	failStatus int
	status     int
	reply      string
	srv        *httptest.Server
}

// StartEndpoint starts an Endpoint closed by t.Cleanup.
func StartEndpoint(t testing.TB) *Endpoint {
	e := &Endpoint{status: 200, failStatus: 503}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	e.URL = e.srv.URL
	t.Cleanup(e.srv.Close)
	return e
}

// FailFirst makes the next n requests fail with status.
func (e *Endpoint) FailFirst(n, status int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failFirst, e.failStatus = n, status
}

// Reply sets the status and body of successful answers.
func (e *Endpoint) Reply(status int, body string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.status, e.reply = status, body
}

// Requests returns the requests so far.
func (e *Endpoint) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Request(nil), e.reqs...)
}

func (e *Endpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	e.reqs = append(e.reqs, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	fail := e.failFirst > 0
	if fail {
		e.failFirst--
	}
	status, reply, fs := e.status, e.reply, e.failStatus
	e.mu.Unlock()
	if fail {
		http.Error(w, "failing on purpose", fs)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, reply)
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
