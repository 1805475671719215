package statuses

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/store"
)

// env is a fake GitHub, an authenticated client and a bucket.
type env struct {
	gh     *githubtest.Server
	repo   *githubtest.Repo
	http   *http.Client
	api    string
	bucket *store.Bucket
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := githubtest.New(t, githubtest.Options{})
	s.Token = "test-token"
	ctx := context.Background()
	gc, err := github.New(github.Config{BaseURL: s.URL, Token: s.Token, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	hc, err := gc.HTTPClient(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.Open(ctx, "mem://", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return &env{gh: s, repo: s.AddRepo("acme", "app"), http: hc, api: s.URL, bucket: b}
}

func (e *env) opts(branches ...string) Options {
	return Options{
		HTTP: e.http, GraphQLURL: GraphQLURL(e.api), Owner: "acme", Repo: "app", Branches: branches,
		Bucket: e.bucket, RetryWait: time.Millisecond, Logger: testLogger(),
		Now: func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) },
	}
}

func testLogger() *slog.Logger {
	if os.Getenv("GHSYNC_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// read returns the stored JSON of key (gunzipped) and its ETag.
func (e *env) read(t *testing.T, key string) ([]byte, string) {
	t.Helper()
	body, etag, err := e.bucket.Read(context.Background(), key)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s is not gzip: %v", key, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return raw, etag
}

// actions builds an Actions suite with runs named job0..jobN-1, all SUCCESS.
func actions(workflow string, n int) githubtest.CheckSuite {
	su := githubtest.CheckSuite{Workflow: workflow}
	for i := 0; i < n; i++ {
		su.Runs = append(su.Runs, githubtest.CheckRun{Name: fmt.Sprintf("job%d", i), Conclusion: "SUCCESS"})
	}
	return su
}

// linear adds n commits on branch, each with suites×runs successful Actions
// runs and one legacy status, and returns their SHAs oldest first.
func linear(e *env, branch string, n, suites, runs int) []string {
	var out []string
	for i := 0; i < n; i++ {
		info := githubtest.CommitInfo{
			Message:     fmt.Sprintf("%s commit %d\n\nbody %d", branch, i, i),
			AuthorName:  "Dev",
			AuthorLogin: "dev",
			Statuses:    []githubtest.StatusContext{{Context: "ci/legacy", State: "SUCCESS", TargetURL: "https://ci.example/1"}},
		}
		for k := 0; k < suites; k++ {
			info.Suites = append(info.Suites, actions(fmt.Sprintf("wf%d", k), runs))
		}
		out = append(out, e.repo.CommitInfo(branch, info))
	}
	return out
}
