package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/githubtest"
)

func TestStatusesVerb(t *testing.T) {
	t.Parallel() // sleeps on poll intervals and retry pauses; touches no process-wide state
	s := githubtest.New(t, githubtest.Options{})
	s.Token = "tok"
	r := s.AddRepo("acme", "app")
	r.CommitInfo("main", githubtest.CommitInfo{Message: "one", AuthorLogin: "dev",
		Suites: []githubtest.CheckSuite{{Workflow: "CI", Runs: []githubtest.CheckRun{{Name: "build", Conclusion: "SUCCESS"}}}}})
	r.CommitInfo("release/2.0", githubtest.CommitInfo{Message: "two"})
	dir := t.TempDir()
	vars := map[string]string{"GITHUB_TOKEN": "tok", "GITHUB_API_URL": s.URL, "HOME": dir}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] },
			GitHubRetryBase: time.Millisecond})
		return code, out.String(), errb.String()
	}
	dst := "file://" + dir + "/hud"
	code, out, errs := run("statuses", "acme/app", dst, "--branch", "main", "--branch", "release/2.0", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var sum map[string]any
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	for _, k := range []string{"branches_written", "branches_unchanged", "commits_fetched", "graphql_requests", "graphql_cost", "duration_ms"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary lacks %s", k)
		}
	}
	if sum["branches_written"] != float64(2) {
		t.Errorf("branches_written = %v", sum["branches_written"])
	}
	if code, _, errs := run("statuses", "acme/app", dst, "--json"); code != ExitUsage || !strings.Contains(errs, "--branch") {
		t.Errorf("no --branch: exit %d %s", code, errs)
	}
	if code, _, _ := run("statuses", "acme/app", dst, "--branch", "main", "--format", "v6"); code != ExitUsage {
		t.Errorf("bad format: exit %d", code)
	}
	r.CommitInfo("release/2.0", githubtest.CommitInfo{Message: "three"})
	s.FailGraphQL("query Details", 200, 100)
	code, _, errs = run("statuses", "acme/app", dst, "--branch", "main", "--branch", "release/2.0")
	if code != ExitFailed || !strings.Contains(errs, "release/2.0") {
		t.Errorf("failed branch: exit %d, stderr %s", code, errs)
	}
}

// `statuses` against a GitHub answering 503: exit 1, one JSON object with
// the error, and a summary counting the requests really sent — within the
// run's retry budget (one request's 1 + 4 attempts; it used to be 4 GraphQL
// attempts × 5 HTTP attempts = 20).
func TestStatusesUnreachableGitHubWithinBudget(t *testing.T) {
	t.Parallel() // sleeps on poll intervals and retry pauses; touches no process-wide state
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	dir := t.TempDir()
	vars := map[string]string{"GITHUB_TOKEN": "tok", "GITHUB_API_URL": srv.URL + "/", "HOME": dir}
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"statuses", "acme/app", "file://" + dir + "/hud", "--branch", "main", "--json"},
		Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }, GitHubRetryBase: time.Millisecond})
	var sum map[string]any
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out.String())
	}
	msg, _ := sum["error"].(string)
	if code != ExitFailed || !strings.Contains(msg, "gave up after 5 attempts") {
		t.Fatalf("exit %d, error %q", code, msg)
	}
	bound := 1 + github.DefaultRunRetries
	if n := int(hits.Load()); sum["graphql_requests"] != float64(n) || n > bound || n != 5 {
		t.Fatalf("GitHub saw %d requests, the summary says %v; want 5 (run budget bound %d)", n, sum["graphql_requests"], bound)
	}
}
