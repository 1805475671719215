package github

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKey is one RSA key shared by the tests (generation is slow).
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func testKeyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey())})
}

// fakeClock is a settable clock; sleeping on it advances it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }

func (f *fakeClock) Advance(d time.Duration) { f.mu.Lock(); f.now = f.now.Add(d); f.mu.Unlock() }

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(d)
	f.mu.Unlock()
	return nil
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// env is a test GitHub served under /api/v3/ (like Enterprise Server) and a
// client pointed at it with a fake clock.
type env struct {
	srv   *httptest.Server
	mux   *http.ServeMux
	c     *Client
	clock *fakeClock
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// newEnv starts a server whose API routes are registered on the returned
// mux with patterns relative to the API root (e.g. "GET /repos/o/r/...").
func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	e := &env{mux: http.NewServeMux(), clock: newFakeClock(), logs: &syncBuffer{}}
	outer := http.NewServeMux()
	outer.Handle("/api/v3/", http.StripPrefix("/api/v3", e.mux))
	e.srv = httptest.NewServer(outer)
	t.Cleanup(e.srv.Close)
	cfg.BaseURL = e.srv.URL + "/api/v3"
	if cfg.Clock == nil {
		cfg.Clock = e.clock.Now
	}
	cfg.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.sleep = e.clock.Sleep
	e.c = c
	return e
}

func (e *env) repo(t *testing.T) *RepoClient {
	t.Helper()
	r, err := e.c.For(context.Background(), "o", "r")
	if err != nil {
		t.Fatalf("For: %v", err)
	}
	return r
}

const testSHA = "0123456789abcdef0123456789abcdef01234567"

func mustContain(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%q does not contain %q", s, sub)
		}
	}
}
