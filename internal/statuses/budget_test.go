package statuses

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/store"
)

// Against a GitHub answering 503 to everything (or a closed port), a run makes the requests
// of one retry budget — not the transport's attempts times the GraphQL
// layer's (it used to send 4 × 5 = 20 requests over ~40 s) — and its
// summary counts the requests really sent.
func TestUnreachableGitHubOneRetryBudget(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	gc, err := github.New(github.Config{BaseURL: srv.URL, Token: "t", RetryBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	hc, err := gc.HTTPClient(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.Open(context.Background(), "mem://", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, tc := range []struct {
		budget *github.RetryBudget // nil: the run's default
		want   int                 // requests sent
		msg    string
	}{
		{nil, 5, "gave up after 5 attempts"}, // a request's own cap (4 retries) comes first
		{&github.RetryBudget{MaxRetries: 2, MaxTime: time.Minute}, 3, "retry budget is spent (2 retries)"},
	} {
		hits.Store(0)
		ctx := context.Background()
		if tc.budget != nil {
			ctx = github.WithRetryBudget(ctx, tc.budget)
		}
		sum, err := Run(ctx, Options{HTTP: hc, GraphQLURL: srv.URL + "/graphql", Owner: "acme", Repo: "app",
			Branches: []string{"main", "release"}, Bucket: b, RetryWait: time.Millisecond, Logger: testLogger()})
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Fatalf("budget %v: err %v; want one naming %q", tc.budget, err, tc.msg)
		}
		if got := int(hits.Load()); got != tc.want || sum.GraphQLRequests != got || sum.GraphQLRetries != got-1 || sum.BranchesFailed != 2 {
			t.Fatalf("budget %v: GitHub saw %d requests, summary says %d (%d retries), %d branches failed; want %d, all counted, 2 failed",
				tc.budget, got, sum.GraphQLRequests, sum.GraphQLRetries, sum.BranchesFailed, tc.want)
		}
	}

	// A closed port: the same bound, counted by the summary.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	sum, err := Run(context.Background(), Options{HTTP: hc, GraphQLURL: closed + "/graphql", Owner: "acme", Repo: "app",
		Branches: []string{"main"}, Bucket: b, RetryWait: time.Millisecond, Logger: testLogger()})
	if err == nil || !strings.Contains(err.Error(), "gave up after 5 attempts") || sum.GraphQLRequests != 5 {
		t.Fatalf("closed port: err %v, %d requests counted; want 5", err, sum.GraphQLRequests)
	}
}
