package jobs

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestInboxMigrateFailureNotRemembered: a ledger migration that fails (a
// cancelled run) does not fail the runs after it: the next call migrates.
func TestInboxMigrateFailureNotRemembered(t *testing.T) {
	dir := t.TempDir()
	cfg, err := ParseConfig([]byte(`
database: sqlite://`+filepath.ToSlash(dir)+`/ghsync.db
jobs:
  - name: uploads
    kind: inbox
    watch: file://`+filepath.ToSlash(dir)+`/uploads/
`), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	env := NewEnv(cfg, slog.New(slog.DiscardHandler), nil, nil, nil)
	t.Cleanup(func() { env.Close() })
	if _, err := env.DB(t.Context()); err != nil {
		t.Fatal(err)
	}
	job := cfg.Jobs[0]
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := inboxDeps(cancelled, env, job, false); !errors.Is(err, context.Canceled) {
		t.Fatalf("migration with a cancelled context: err = %v; want context.Canceled", err)
	}
	deps, _, err := inboxDeps(t.Context(), env, job, false)
	if err != nil {
		t.Fatalf("the run after a cancelled one: %v (a failed migration was remembered)", err)
	}
	if deps.Ledger == nil {
		t.Fatal("no ledger")
	}
}

// TestSharedErrRetriesAfterFailure: SharedErr keeps a value only once create
// succeeds, and concurrent callers of one key run create once.
func TestSharedErrRetriesAfterFailure(t *testing.T) {
	env := NewEnv(nil, nil, nil, nil, nil)
	calls := 0
	create := func() (any, error) {
		calls++
		if calls == 1 {
			return nil, errors.New("transient")
		}
		return calls, nil
	}
	if _, err := env.SharedErr("k", create); err == nil {
		t.Fatal("first create: no error")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := env.SharedErr("k", create)
			if err != nil || v != 2 {
				t.Errorf("SharedErr = %v, %v; want 2, nil", v, err)
			}
		}()
	}
	wg.Wait()
	if calls != 2 {
		t.Errorf("create called %d times; want 2 (one failure, one success shared by all)", calls)
	}
}

// TestSharedCreateBlocksNoOtherKey: while one key's create is still running
// (e.g. I/O), other keys' Shared, GitHub and DB answer.
func TestSharedCreateBlocksNoOtherKey(t *testing.T) {
	dir := t.TempDir()
	cfg, err := ParseConfig([]byte(`
database: sqlite://`+filepath.ToSlash(dir)+`/ghsync.db
github:
  token: t0ken
jobs:
  - name: site
    kind: repo
    source: dir:`+filepath.ToSlash(dir)+`
    dest: mem://env-test/
`), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	env := NewEnv(cfg, slog.New(slog.DiscardHandler), nil, nil, nil)
	t.Cleanup(func() { env.Close() })
	release := make(chan struct{})
	started := make(chan struct{})
	slow := make(chan any)
	go func() {
		slow <- env.Shared("slow", func() any { close(started); <-release; return "slow" })
	}()
	<-started
	others := make(chan error)
	go func() {
		if v := env.Shared("other", func() any { return "other" }); v != "other" {
			others <- errors.New("Shared(other) wrong value")
			return
		}
		if _, err := env.GitHub(t.Context()); err != nil {
			others <- err
			return
		}
		_, err := env.DB(t.Context())
		others <- err
	}()
	select {
	case err := <-others:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute): // a deadlock guard, not a timing claim
		close(release)
		t.Fatal("Shared, GitHub and DB of other keys waited for another key's create")
	}
	close(release)
	if v := <-slow; v != "slow" {
		t.Errorf("Shared(slow) = %v", v)
	}
}

// TestGitHubRetryBaseReachesTheClient: Env.GitHubRetryBase sets the GitHub
// client's first pause between attempts; the number of attempts is the
// client's default (1 + 4) either way.
func TestGitHubRetryBaseReachesTheClient(t *testing.T) {
	var mu sync.Mutex
	var hits []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, time.Now())
		mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cfg, err := ParseConfig([]byte("github:\n  api_url: "+srv.URL+"/\n"), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	env := NewEnv(cfg, nil, nil, nil, nil)
	env.GitHubRetryBase = time.Millisecond
	gh, err := env.GitHub(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	hc, err := gh.HTTPClient(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if resp, err := hc.Get(srv.URL + "/repos/acme/app"); err == nil {
		resp.Body.Close()
	}
	elapsed := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	// With the default 500ms base the four pauses take at least 3.75s
	// (0.5+1+2+4 s, each at least half of itself with jitter).
	if len(hits) != 5 || elapsed > 2*time.Second {
		t.Fatalf("%d attempts in %s; want 5 attempts with millisecond pauses", len(hits), elapsed)
	}
}
