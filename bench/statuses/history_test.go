package statusesbench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/statuses"
	"github.com/ghsync/ghsync/internal/store"
)

// TestHistoryCost measures a statuses run after one new status (the head
// commit's queued job concludes) as the repository's history grows:
// GHSYNC_BENCH_COMMITS commits on main (default 1,000), 8 Actions jobs
// each, a snapshot of GHSYNC_BENCH_HISTORY_SIZE of them (default 100).
// Reported: GraphQL requests, store bytes read and written, wall time and
// memory allocated by the run. Run through history.sh, or:
//
//	GHSYNC_BENCH_COMMITS=10000 go test -run TestHistoryCost -v ./bench/statuses/
func TestHistoryCost(t *testing.T) {
	env := func(k string, d int) int {
		if v := os.Getenv(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			return n
		}
		return d
	}
	commits, size := env("GHSYNC_BENCH_COMMITS", 1000), env("GHSYNC_BENCH_HISTORY_SIZE", 100)
	s := githubtest.New(t, githubtest.Options{})
	s.Token = "bench"
	r := s.AddRepo("acme", "app")
	suite := func(queued bool) []githubtest.CheckSuite {
		su := githubtest.CheckSuite{Workflow: "pull"}
		for j := range 8 {
			run := githubtest.CheckRun{Name: fmt.Sprintf("job%d", j), Conclusion: "SUCCESS"}
			if queued && j == 7 {
				run = githubtest.CheckRun{Name: run.Name, Status: "QUEUED"}
			}
			su.Runs = append(su.Runs, run)
		}
		return []githubtest.CheckSuite{su}
	}
	var head string
	for i := range commits {
		head = r.CommitInfo("main", githubtest.CommitInfo{Message: fmt.Sprintf("change %d\n\nbody", i), AuthorLogin: "dev",
			Suites: suite(i == commits-1)})
	}
	gc, err := github.New(github.Config{BaseURL: s.URL, Token: s.Token})
	if err != nil {
		t.Fatal(err)
	}
	hc, err := gc.HTTPClient(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	bk, err := store.Open(context.Background(), "mem://", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bk.Close()
	o := statuses.Options{HTTP: hc, GraphQLURL: statuses.GraphQLURL(s.URL), Owner: "acme", Repo: "app",
		Branches: []string{"main"}, HistorySize: size, Bucket: bk, Now: time.Now}
	if _, err := statuses.Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	// Steady, then the queued job concludes: one new status.
	for _, phase := range []string{"steady", "one-new-status"} {
		if phase == "one-new-status" {
			s.SetChecks(head, suite(false), nil)
		}
		s.ResetGraphQL()
		// The run reads the stored snapshot once: its size is the bytes read.
		obj, err := bk.Stat(context.Background(), statuses.Key("acme", "app", "main"))
		if err != nil {
			t.Fatal(err)
		}
		before := bk.Stats()
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		start := time.Now()
		sum, err := statuses.Run(context.Background(), o)
		wall := time.Since(start)
		runtime.ReadMemStats(&m1)
		if err != nil {
			t.Fatal(err)
		}
		after := bk.Stats()
		var req []string
		for _, k := range []string{store.KindGet, store.KindHead, store.KindPut} {
			req = append(req, fmt.Sprintf("%s:%d", k, after.Requests[k]-before.Requests[k]))
		}
		t.Logf("RESULT commits=%d history_size=%d phase=%s wall_ms=%.1f graphql_requests=%d commits_fetched=%d store_requests=%s "+
			"store_bytes_read=%d store_bytes_written=%d alloc_during_run_MB=%.1f",
			commits, size, phase, float64(wall.Microseconds())/1000, sum.GraphQLRequests, sum.CommitsFetched,
			strings.Join(req, ","), obj.Size, after.BytesUploaded-before.BytesUploaded, float64(m1.TotalAlloc-m0.TotalAlloc)/1e6)
	}
}
