// Package statusesbench measures the GraphQL requests and cost of status
// snapshots against the contract-checked fake GitHub (must-be-true 1 and 2
// of issue 3). Run:
//
//	go test -run XXX -bench . -benchtime 1x ./bench/statuses/
package statusesbench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/statuses"
	"github.com/ghsync/ghsync/internal/store"
)

// scenario is a repository shape.
type scenario struct {
	name                          string
	branches                      []string
	commits, suites, runs, status int
}

var scenarios = []scenario{
	{"100x3-typical", []string{"main", "release/2.0", "nightly"}, 100, 10, 8, 2},
	{"100x1-heavy-1000-runs", []string{"main"}, 100, 40, 25, 0},
}

func setup(b *testing.B, sc scenario) (statuses.Options, *githubtest.Server) {
	s := githubtest.New(b, githubtest.Options{})
	s.Token = "bench"
	r := s.AddRepo("acme", "app")
	for _, br := range sc.branches {
		for i := 0; i < sc.commits; i++ {
			info := githubtest.CommitInfo{Message: fmt.Sprintf("%s %d", br, i), AuthorLogin: "dev"}
			for k := 0; k < sc.suites; k++ {
				su := githubtest.CheckSuite{Workflow: fmt.Sprintf("wf%d", k)}
				for j := 0; j < sc.runs; j++ {
					su.Runs = append(su.Runs, githubtest.CheckRun{Name: fmt.Sprintf("job%d", j), Conclusion: "SUCCESS"})
				}
				info.Suites = append(info.Suites, su)
			}
			for k := 0; k < sc.status; k++ {
				info.Statuses = append(info.Statuses, githubtest.StatusContext{Context: fmt.Sprintf("ci/%d", k), State: "SUCCESS"})
			}
			r.CommitInfo(br, info)
		}
	}
	gc, err := github.New(github.Config{BaseURL: s.URL, Token: s.Token})
	if err != nil {
		b.Fatal(err)
	}
	hc, err := gc.HTTPClient(context.Background(), "acme")
	if err != nil {
		b.Fatal(err)
	}
	bk, err := store.Open(context.Background(), "mem://", store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bk.Close() })
	return statuses.Options{HTTP: hc, GraphQLURL: statuses.GraphQLURL(s.URL), Owner: "acme", Repo: "app",
		Branches: sc.branches, HistorySize: 100, Bucket: bk, Now: time.Now}, s
}

// BenchmarkStatuses reports, per scenario, the cold run and the steady
// state (no new commits, all jobs concluded): GraphQL requests, cost (as
// GitHub's rateLimit.cost reports it), nodes of the largest query and
// store writes.
func BenchmarkStatuses(b *testing.B) {
	for _, sc := range scenarios {
		for _, phase := range []string{"cold", "steady"} {
			b.Run(sc.name+"/"+phase, func(b *testing.B) {
				var sum *statuses.Summary
				var maxNodes int
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					o, s := setup(b, sc)
					if phase == "steady" {
						if _, err := statuses.Run(context.Background(), o); err != nil {
							b.Fatal(err)
						}
						s.ResetGraphQL()
					}
					b.StartTimer()
					var err error
					if sum, err = statuses.Run(context.Background(), o); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					maxNodes = 0
					for _, c := range s.GraphQLCalls() {
						maxNodes = max(maxNodes, c.Nodes)
					}
				}
				b.ReportMetric(float64(sum.GraphQLRequests), "graphql_requests")
				b.ReportMetric(float64(sum.GraphQLCost), "graphql_cost")
				b.ReportMetric(float64(maxNodes), "max_nodes")
				b.ReportMetric(float64(sum.StoreWrites), "store_writes")
				b.Logf("%s %s: %d GraphQL requests (the original Lambda: 1 + 10 per branch = %d), cost %d, largest query %d nodes, %d commits fetched, %d store writes",
					sc.name, phase, sum.GraphQLRequests, 1+10*len(sc.branches), sum.GraphQLCost, maxNodes, sum.CommitsFetched, sum.StoreWrites)
			})
		}
	}
}
