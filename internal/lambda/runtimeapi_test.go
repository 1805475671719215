package lambda

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// runtimeAPI is a test implementation of the documented Lambda Runtime API
// (version 2018-06-01): next invocation, invocation response, invocation
// error and init error.
type runtimeAPI struct {
	t       *testing.T
	addr    string
	pending chan invocation
	initErr chan result

	mu      sync.Mutex
	waiters map[string]chan result
	seq     int
}

type invocation struct {
	id      string
	payload []byte
}

// result is what the function posted for one invocation (or at init).
type result struct {
	OK        bool   // posted to /response (false: /error)
	Body      []byte // the response payload or the error document
	ErrorType string // Lambda-Runtime-Function-Error-Type header of an error
}

// errorDoc decodes the error document of a failed invocation.
func (r result) errorDoc(t *testing.T) (typ, msg string) {
	t.Helper()
	var d struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(r.Body, &d); err != nil {
		t.Fatalf("error document %q: %v", r.Body, err)
	}
	return d.ErrorType, d.ErrorMessage
}

func newRuntimeAPI(t *testing.T) *runtimeAPI {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	api := &runtimeAPI{t: t, addr: ln.Addr().String(), pending: make(chan invocation, 16),
		initErr: make(chan result, 1), waiters: map[string]chan result{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", api.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		api.deliver(w, r, true)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) {
		api.deliver(w, r, false)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		api.initErr <- result{Body: body, ErrorType: r.Header.Get("Lambda-Runtime-Function-Error-Type")}
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":"OK"}`)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return api
}

// next blocks until an invocation is queued, then hands it out with the
// documented headers.
func (a *runtimeAPI) next(w http.ResponseWriter, r *http.Request) {
	select {
	case inv := <-a.pending:
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(60*time.Second).UnixMilli()))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:ghsync")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case <-r.Context().Done():
	}
}

func (a *runtimeAPI) deliver(w http.ResponseWriter, r *http.Request, ok bool) {
	id := r.PathValue("id")
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	ch := a.waiters[id]
	delete(a.waiters, id)
	a.mu.Unlock()
	if ch == nil {
		http.Error(w, `{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
		return
	}
	ch <- result{OK: ok, Body: body, ErrorType: r.Header.Get("Lambda-Runtime-Function-Error-Type")}
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// invoke queues payload and waits for the function's answer.
func (a *runtimeAPI) invoke(payload string) result {
	a.t.Helper()
	a.mu.Lock()
	a.seq++
	id := fmt.Sprintf("req-%04d", a.seq)
	ch := make(chan result, 1)
	a.waiters[id] = ch
	a.mu.Unlock()
	a.pending <- invocation{id: id, payload: []byte(payload)}
	select {
	case r := <-ch:
		return r
	case <-time.After(90 * time.Second):
		a.t.Fatalf("no answer to invocation %s (%s)", id, strings.TrimSpace(payload[:min(len(payload), 80)]))
		return result{}
	}
}
