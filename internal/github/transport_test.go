package github

import (
	"context"
	"errors"
	"fmt"
	"github.com/ghsync/ghsync/internal/ctxtime"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestHeadersOnEveryRequest(t *testing.T) {
	e := newEnv(t, Config{Token: "tok-abc", UserAgent: "ghsync-test/1"})
	var seen atomic.Int32
	e.mux.HandleFunc("GET /repos/o/r/commits/{ref...}", func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		if got := r.Header.Get("X-GitHub-Api-Version"); got != APIVersion {
			t.Errorf("X-GitHub-Api-Version = %q", got)
		}
		if got := r.Header.Get("User-Agent"); got != "ghsync-test/1" {
			t.Errorf("User-Agent = %q", got)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer tok-abc" {
			t.Errorf("Authorization = %q", got)
		}
		if got := r.Header.Get("Accept"); got != "application/vnd.github.sha" {
			t.Errorf("Accept = %q", got)
		}
		if got := r.PathValue("ref"); got != "feature/x y" {
			t.Errorf("ref = %q", got)
		}
		w.Header().Set("ETag", `W/"e1"`)
		w.Header().Set("X-RateLimit-Remaining", "4999")
		w.Header().Set("X-RateLimit-Reset", "1740834000")
		io.WriteString(w, testSHA)
	})
	sha, etag, nm, err := e.repo(t).ResolveCommit(context.Background(), "feature/x y", "")
	if err != nil || sha != testSHA || etag != `W/"e1"` || nm {
		t.Fatalf("ResolveCommit = %q %q %v %v", sha, etag, nm, err)
	}
	if seen.Load() != 1 {
		t.Fatalf("server saw %d requests", seen.Load())
	}
	rem, reset, known := e.c.RateRemaining()
	if !known || rem != 4999 || reset.Unix() != 1740834000 {
		t.Fatalf("RateRemaining = %d %v %v", rem, reset, known)
	}
	st := e.c.Stats()
	if st.Requests != 1 || st.ByRoute["GET /repos/{owner}/{repo}/commits/{ref}"] != 1 || st.BytesDownloaded != int64(len(testSHA)) {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestRetriesServerErrorsThenSucceeds(t *testing.T) {
	e := newEnv(t, Config{})
	var n atomic.Int32
	statuses := []int{500, 502, 504, 200}
	e.mux.HandleFunc("GET /repos/o/r/commits/{ref}", func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1) - 1
		w.WriteHeader(statuses[i])
		if statuses[i] == 200 {
			io.WriteString(w, testSHA)
		}
	})
	sha, _, _, err := e.repo(t).ResolveCommit(context.Background(), "main", "")
	if err != nil || sha != testSHA {
		t.Fatalf("ResolveCommit = %q, %v", sha, err)
	}
	st := e.c.Stats()
	if st.Requests != 4 || st.Retries != 3 {
		t.Fatalf("Stats = %+v, want 4 requests, 3 retries", st)
	}
	sleeps := e.clock.Sleeps()
	if len(sleeps) != 3 {
		t.Fatalf("sleeps = %v", sleeps)
	}
	for i, d := range sleeps {
		if d <= 0 || d > 30*time.Second {
			t.Errorf("backoff %d = %v", i, d)
		}
	}
	if sleeps[2] <= sleeps[0] {
		t.Errorf("backoff not growing: %v", sleeps)
	}
}

func TestGivesUpAfterMaxRetries(t *testing.T) {
	e := newEnv(t, Config{MaxRetries: 2})
	var n atomic.Int32
	e.mux.HandleFunc("GET /repos/o/r/commits/{ref}", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"message":"Service Unavailable"}`)
	})
	_, _, _, err := e.repo(t).ResolveCommit(context.Background(), "main", "")
	if err == nil {
		t.Fatal("no error")
	}
	mustContain(t, err.Error(), "o/r@main", "503", "gave up after 3 attempts", "/repos/o/r/commits/main")
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 503 || se.Attempts != 3 {
		t.Fatalf("error %v is not a 503 StatusError after 3 attempts", err)
	}
	if n.Load() != 3 {
		t.Fatalf("server saw %d requests, want 3", n.Load())
	}
}

// flakyRT fails the first n round trips with a connection reset.
type flakyRT struct {
	fails atomic.Int32
	next  http.RoundTripper
}

func (f *flakyRT) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.fails.Add(-1) >= 0 {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, fmt.Errorf("read tcp: %w", syscall.ECONNRESET)
	}
	return f.next.RoundTrip(r)
}

func TestRetriesNetworkErrorsReplayingBody(t *testing.T) {
	rt := &flakyRT{next: http.DefaultTransport}
	rt.fails.Store(2)
	e := newEnv(t, Config{Token: "t", HTTPClient: &http.Client{Transport: rt}})
	e.mux.HandleFunc("POST /graphql", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if string(b) != `{"query":"{viewer{login}}"}` {
			t.Errorf("body = %q", b)
		}
		io.WriteString(w, `{"data":{}}`)
	})
	hc, err := e.c.HTTPClient(context.Background(), "o")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Post(e.c.BaseURL()+"graphql", "application/json", strings.NewReader(`{"query":"{viewer{login}}"}`))
	if err != nil {
		t.Fatalf("Post: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if st := e.c.Stats(); st.Requests != 3 || st.Retries != 2 || st.ByRoute["POST /api/v3/graphql"] != 3 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestNoRetryWhenContextCancelled(t *testing.T) {
	e := newEnv(t, Config{})
	var n atomic.Int32
	e.mux.HandleFunc("GET /repos/o/r/commits/{ref}", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	})
	ctx, cancel := context.WithCancel(context.Background())
	r := e.repo(t)
	e.c.sleep = func(ctx context.Context, d time.Duration) error { cancel(); return ctxtime.Sleep(ctx, d) }
	_, _, _, err := r.ResolveCommit(ctx, "main", "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n.Load() != 1 {
		t.Fatalf("server saw %d requests after cancel, want 1", n.Load())
	}
}

func TestRateLimitWaits(t *testing.T) {
	tests := []struct {
		name      string
		limit     func(w http.ResponseWriter, now time.Time)
		wantSleep time.Duration
		secondary bool
	}{
		{"primary 403 waits until reset", func(w http.ResponseWriter, now time.Time) {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(30*time.Second).Unix(), 10))
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message":"API rate limit exceeded"}`)
		}, 31 * time.Second, false},
		{"primary 429 waits until reset", func(w http.ResponseWriter, now time.Time) {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(5*time.Second).Unix(), 10))
			w.WriteHeader(http.StatusTooManyRequests)
		}, 6 * time.Second, false},
		{"secondary Retry-After", func(w http.ResponseWriter, now time.Time) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message":"You have exceeded a secondary rate limit."}`)
		}, 7 * time.Second, true},
		{"secondary message without Retry-After", func(w http.ResponseWriter, now time.Time) {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes."}`)
		}, time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			var n atomic.Int32
			e.mux.HandleFunc("GET /repos/o/r/commits/{ref}", func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					tt.limit(w, e.clock.Now())
					return
				}
				io.WriteString(w, testSHA)
			})
			sha, _, _, err := e.repo(t).ResolveCommit(context.Background(), "main", "")
			if err != nil || sha != testSHA {
				t.Fatalf("ResolveCommit = %q, %v", sha, err)
			}
			if got := e.clock.Sleeps(); len(got) != 1 || got[0] != tt.wantSleep {
				t.Fatalf("sleeps = %v, want [%v]", got, tt.wantSleep)
			}
			if st := e.c.Stats(); st.RateLimitWaits != 1 || st.Requests != 2 {
				t.Fatalf("Stats = %+v", st)
			}
			mustContain(t, e.logs.String(), "rate limit", fmt.Sprintf("secondary=%v", tt.secondary))
		})
	}
}

func TestRateLimitBeyondMaxWaitFails(t *testing.T) {
	e := newEnv(t, Config{MaxWait: 10 * time.Second})
	reset := e.clock.Now().Add(42 * time.Minute)
	e.mux.HandleFunc("GET /repos/o/r/commits/{ref}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		w.WriteHeader(http.StatusForbidden)
	})
	_, _, _, err := e.repo(t).ResolveCommit(context.Background(), "main", "")
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	mustContain(t, err.Error(), reset.Format(time.RFC3339), "maximum wait of 10s", "primary rate limit")
	if s := e.clock.Sleeps(); len(s) != 0 {
		t.Fatalf("slept %v", s)
	}
}

func TestSecondaryRetryAfterBeyondMaxWaitFails(t *testing.T) {
	e := newEnv(t, Config{MaxWait: 5 * time.Second})
	e.mux.HandleFunc("GET /repos/o/r/commits/{ref}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	_, _, _, err := e.repo(t).ResolveCommit(context.Background(), "main", "")
	var rl *RateLimitError
	if !errors.As(err, &rl) || !rl.Secondary || rl.Wait != 2*time.Minute {
		t.Fatalf("err = %#v", err)
	}
	mustContain(t, err.Error(), "secondary rate limit", "in 2m0s")
}

func TestPlainForbiddenIsNotARateLimit(t *testing.T) {
	e := newEnv(t, Config{Token: "t"})
	e.mux.HandleFunc("GET /repos/o/r/commits/{ref}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "4000")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message":"Resource not accessible by integration"}`)
	})
	_, _, _, err := e.repo(t).ResolveCommit(context.Background(), "main", "")
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 403 {
		t.Fatalf("err = %v, want 403 StatusError", err)
	}
	mustContain(t, err.Error(), "Resource not accessible by integration")
	if len(e.clock.Sleeps()) != 0 || e.c.Stats().Requests != 1 {
		t.Fatalf("plain 403 was retried: sleeps %v stats %+v", e.clock.Sleeps(), e.c.Stats())
	}
}

// A request marked Once (creating an issue) is not sent again after a 5xx
// or a network error: GitHub may have created the issue before failing.
func TestOnceRequestsAreNotRepeated(t *testing.T) {
	e := newEnv(t, Config{Token: "t"})
	var n atomic.Int32
	e.mux.HandleFunc("POST /repos/o/r/issues", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	})
	hc, err := e.c.HTTPClient(context.Background(), "o")
	if err != nil {
		t.Fatal(err)
	}
	post := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.c.BaseURL()+"repos/o/r/issues", strings.NewReader(`{"title":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return err
	}
	err = post(Once(context.Background()))
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusBadGateway || se.Attempts != 1 {
		t.Fatalf("Once POST = %v, want a 502 StatusError after 1 attempt", err)
	}
	if n.Load() != 1 {
		t.Fatalf("server saw %d requests for a Once POST, want 1", n.Load())
	}
	n.Store(0)
	post(context.Background())
	if n.Load() < 2 {
		t.Fatalf("server saw %d requests for an ordinary POST, want retries", n.Load())
	}

	rt := &flakyRT{next: http.DefaultTransport}
	rt.fails.Store(1)
	e2 := newEnv(t, Config{Token: "t", HTTPClient: &http.Client{Transport: rt}})
	var m atomic.Int32
	e2.mux.HandleFunc("POST /repos/o/r/issues", func(w http.ResponseWriter, r *http.Request) { m.Add(1) })
	hc2, err := e2.c.HTTPClient(context.Background(), "o")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(Once(context.Background()), http.MethodPost, e2.c.BaseURL()+"repos/o/r/issues", strings.NewReader(`{}`))
	if resp, err := hc2.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("Once POST after a connection reset succeeded (status %d): it was repeated", resp.StatusCode)
	}
	if m.Load() != 0 {
		t.Fatalf("server saw %d requests, want 0 (the reset attempt is not repeated)", m.Load())
	}
}
