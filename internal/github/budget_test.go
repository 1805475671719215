package github

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// One budget per run bounds the retries of all its requests together: a
// request chain stops when the budget is spent even though its own cap
// would allow more, later requests of the run are not retried at all, and
// the budget counts every request actually sent.
func TestRetryBudgetIsSharedByTheRun(t *testing.T) {
	e := newEnv(t, Config{MaxRetries: 4})
	var n atomic.Int32
	e.mux.HandleFunc("GET /repos/o/r/commits/{ref}", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, `{"message":"Bad Gateway"}`)
	})
	b := &RetryBudget{MaxRetries: 3, MaxTime: time.Hour}
	ctx := WithRetryBudget(context.Background(), b)
	repo := e.repo(t)
	for i := 0; i < 4; i++ { // a caller retrying on top of the transport
		_, _, _, err := repo.ResolveCommit(ctx, "main", "")
		var se *StatusError
		if !errors.As(err, &se) || se.StatusCode != 502 {
			t.Fatalf("call %d: %v", i, err)
		}
		if i == 0 {
			mustContain(t, err.Error(), "gave up after 4 attempts", "retry budget is spent (3 retries)")
		}
	}
	// 1 + 3 retries for the first call, 1 attempt for each later one.
	if got := n.Load(); got != 7 || b.Attempts() != 7 || b.Retries() != 3 || !b.Spent() {
		t.Fatalf("server saw %d requests; budget counted %d attempts, %d retries, spent %v; want 7, 7, 3, true",
			got, b.Attempts(), b.Retries(), b.Spent())
	}
}

// The time bound: no retry starts later than MaxTime after the first failure
// of a streak; the waits slept stay within it.
func TestRetryBudgetTimeBound(t *testing.T) {
	e := newEnv(t, Config{MaxRetries: 100})
	e.c.retryBase = time.Second
	var n atomic.Int32
	e.mux.HandleFunc("GET /repos/o/r/commits/{ref}", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	b := &RetryBudget{MaxRetries: 100, MaxTime: 15 * time.Second}
	_, _, _, err := e.repo(t).ResolveCommit(WithRetryBudget(context.Background(), b), "main", "")
	if err == nil {
		t.Fatal("no error")
	}
	mustContain(t, err.Error(), "retry budget is spent (failing for")
	var slept time.Duration
	for _, d := range e.clock.Sleeps() {
		slept += d
	}
	if slept > b.MaxTime || int(n.Load()) != len(e.clock.Sleeps())+1 || b.Attempts() != int(n.Load()) {
		t.Fatalf("slept %s over %d requests (%d sleeps, budget counted %d); want at most %s", slept, n.Load(),
			len(e.clock.Sleeps()), b.Attempts(), b.MaxTime)
	}
	if n.Load() > 5 { // 1s, 2s, 4s, 8s with ±50% jitter: at most 4 waits fit in 15s
		t.Fatalf("%d requests", n.Load())
	}
}

// An answer ends a failure streak, and answers earn retries: a long run
// survives scattered faults.
func TestRetryBudgetAnswersRefill(t *testing.T) {
	b := &RetryBudget{MaxRetries: 1, MaxTime: time.Second}
	now := time.Unix(0, 0)
	if b.Take(now, 100*time.Millisecond) != "" || b.Take(now, 0) == "" {
		t.Fatal("want one retry, then a refusal")
	}
	for i := 0; i < 10; i++ {
		b.answer()
	}
	if r := b.Take(now.Add(time.Hour), 500*time.Millisecond); r != "" {
		t.Fatalf("after ten answers and a new streak: %s", r)
	}
}
