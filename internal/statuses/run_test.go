package statuses

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/githubtest"
)

var three = []string{"main", "release/2.0", "nightly"}

// Must-be-true 1 and 2: 100 commits × 3 branches cold in ≤ 6 requests;
// steady state is 1 request and no store write.
func TestColdThenSteady(t *testing.T) {
	e := newEnv(t)
	for _, b := range three {
		linear(e, b, 110, 3, 4)
	}
	ctx := context.Background()
	sum, err := Run(ctx, e.opts(three...))
	if err != nil {
		t.Fatal(err)
	}
	calls := e.gh.GraphQLCalls()
	t.Logf("cold: %d requests, cost %d (fake: %d)", sum.GraphQLRequests, sum.GraphQLCost, e.gh.GraphQLCost())
	if len(calls) > 6 || sum.GraphQLRequests != len(calls) {
		t.Fatalf("cold run: %d GraphQL requests (summary %d), want ≤ 6", len(calls), sum.GraphQLRequests)
	}
	if sum.GraphQLCost != e.gh.GraphQLCost() || sum.GraphQLCost < 1 {
		t.Errorf("summary cost %d, fake computed %d", sum.GraphQLCost, e.gh.GraphQLCost())
	}
	if sum.BranchesWritten != 3 || sum.CommitsFetched != 300 || sum.StoreWrites != 3 {
		t.Fatalf("cold summary: %+v", sum)
	}
	for _, b := range three {
		raw, _ := e.read(t, Key("acme", "app", b))
		var list []v5Commit
		if err := json.Unmarshal(raw, &list); err != nil {
			t.Fatal(err)
		}
		if len(list) != 100 || len(list[0].Jobs) != 13 {
			t.Fatalf("%s: %d commits, %d jobs in the newest; want 100 and 13", b, len(list), len(list[0].Jobs))
		}
		if list[0].SHA != e.repo.Head(b) {
			t.Errorf("%s: newest commit %s, head is %s", b, list[0].SHA, e.repo.Head(b))
		}
	}

	e.gh.ResetGraphQL()
	puts := e.bucket.Stats().Requests
	sum, err = Run(ctx, e.opts(three...))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.gh.GraphQLCalls()); n != 1 || sum.GraphQLRequests != 1 {
		t.Fatalf("steady state: %d GraphQL requests, want 1", n)
	}
	if sum.StoreWrites != 0 || sum.BranchesUnchanged != 3 || sum.CommitsFetched != 0 {
		t.Fatalf("steady summary: %+v", sum)
	}
	after := e.bucket.Stats().Requests
	for k, v := range after {
		if strings.Contains(strings.ToLower(k), "put") && v != puts[k] {
			t.Errorf("store %s requests went from %d to %d in steady state", k, puts[k], v)
		}
	}
	t.Logf("steady: %d request, cost %d", sum.GraphQLRequests, sum.GraphQLCost)
}

// Incremental: only new commits and commits with unfinished jobs are fetched.
func TestIncremental(t *testing.T) {
	e := newEnv(t)
	shas := linear(e, "main", 10, 1, 2)
	// The newest commit has a queued and an in-progress run.
	e.gh.SetChecks(shas[9], []githubtest.CheckSuite{{Workflow: "CI", Runs: []githubtest.CheckRun{
		{Name: "build", Status: "QUEUED"}, {Name: "test", Status: "IN_PROGRESS"}}}}, nil)
	ctx := context.Background()
	o := e.opts("main")
	o.HistorySize = 5
	if _, err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	raw, _ := e.read(t, Key("acme", "app", "main"))
	if !strings.Contains(string(raw), `"name":"CI / build","status":"queued"`) || !strings.Contains(string(raw), `"name":"CI / test","status":"pending"`) {
		t.Fatalf("unfinished jobs not rendered: %s", raw)
	}
	e.gh.SetChecks(shas[9], []githubtest.CheckSuite{{Workflow: "CI", Runs: []githubtest.CheckRun{
		{Name: "build", Conclusion: "SUCCESS"}, {Name: "test", Conclusion: "FAILURE"}}}}, nil)
	linear(e, "main", 2, 1, 2)
	e.gh.ResetGraphQL()
	sum, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	// 2 new + 1 unfinished; the window drops the 2 oldest.
	if sum.CommitsFetched != 3 || sum.CommitsReused != 2 || sum.BranchesWritten != 1 || sum.GraphQLRequests != 2 {
		t.Fatalf("incremental summary: %+v", sum)
	}
	raw, _ = e.read(t, Key("acme", "app", "main"))
	var list []v5Commit
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 5 || list[2].SHA != shas[9] || list[2].Jobs[1].Status != "failure" {
		t.Fatalf("after update: %s", raw)
	}
}

// Must-be-true 3: 1,500 check runs across 40 suites all come out.
func TestFifteenHundredRuns(t *testing.T) {
	e := newEnv(t)
	info := githubtest.CommitInfo{Message: "big", AuthorLogin: "dev"}
	for s := 0; s < 40; s++ {
		n := 37
		if s < 20 {
			n = 38
		}
		info.Suites = append(info.Suites, actions(fmt.Sprintf("wf%02d", s), n))
	}
	sha := e.repo.CommitInfo("main", info)
	sum, err := Run(context.Background(), e.opts("main"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := e.read(t, Key("acme", "app", "main"))
	var list []v5Commit
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].SHA != sha {
		t.Fatalf("snapshot: %d commits", len(list))
	}
	names := map[string]bool{}
	for _, j := range list[0].Jobs {
		names[j.Name] = true
	}
	if len(list[0].Jobs) != 1500 || len(names) != 1500 {
		t.Fatalf("got %d jobs (%d distinct), want 1500", len(list[0].Jobs), len(names))
	}
	t.Logf("1,500 runs: %d requests, cost %d", sum.GraphQLRequests, sum.GraphQLCost)
}

// Must-be-true 4: a page failure on one branch keeps its previous object,
// fails the run naming the branch, and still writes the other branches.
func TestPartialFailureKeepsPrevious(t *testing.T) {
	e := newEnv(t)
	linear(e, "main", 3, 1, 1)
	linear(e, "release/2.0", 3, 1, 1)
	ctx := context.Background()
	if _, err := Run(ctx, e.opts("main", "release/2.0")); err != nil {
		t.Fatal(err)
	}
	relKey := Key("acme", "app", "release/2.0")
	before, beforeTag := e.read(t, relKey)
	mainBefore, _ := e.read(t, Key("acme", "app", "main"))

	linear(e, "main", 1, 1, 1)
	newRel := linear(e, "release/2.0", 1, 1, 1)
	e.gh.FailGraphQL(newRel[0], 200, 1000) // every page holding the new release commit fails
	sum, err := Run(ctx, e.opts("main", "release/2.0"))
	var be *BranchError
	if err == nil || !errors.As(err, &be) || be.Branch != "release/2.0" || !strings.Contains(err.Error(), "release/2.0") {
		t.Fatalf("err = %v, want a BranchError naming release/2.0", err)
	}
	if strings.Contains(err.Error(), "branch main") {
		t.Fatalf("main reported failed: %v", err)
	}
	after, afterTag := e.read(t, relKey)
	if string(after) != string(before) || afterTag != beforeTag {
		t.Fatalf("release object changed after a failed fetch")
	}
	mainAfter, _ := e.read(t, Key("acme", "app", "main"))
	if string(mainAfter) == string(mainBefore) || sum.BranchesWritten != 1 || sum.BranchesFailed != 1 {
		t.Fatalf("main not written: %+v", sum)
	}
	if got := sum.Branches[1]; got.Result != "failed" || got.Error == "" {
		t.Fatalf("release result %+v", got)
	}
}

// Too heavy: the node limit refusal shrinks pages and the run completes.
func TestTooHeavyShrinks(t *testing.T) {
	e := newEnv(t)
	linear(e, "main", 20, 4, 6)
	e.gh.SetGraphQLNodeLimit(5000)
	sum, err := Run(context.Background(), e.opts("main"))
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, c := range e.gh.GraphQLCalls() {
		for _, m := range c.Errors {
			if strings.Contains(m, "exceeds the maximum limit") {
				refused++
			}
		}
		if c.Nodes > 5000 && len(c.Errors) == 0 {
			t.Errorf("a query of %d nodes was answered", c.Nodes)
		}
	}
	if refused == 0 {
		t.Fatal("no query was refused; the test does not exercise shrinking")
	}
	raw, _ := e.read(t, Key("acme", "app", "main"))
	var list []v5Commit
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 20 || len(list[0].Jobs) != 25 {
		t.Fatalf("%d commits, %d jobs; want 20 and 25", len(list), len(list[0].Jobs))
	}
	t.Logf("shrunk: %d requests (%d refused)", sum.GraphQLRequests, refused)
}

func TestMissingBranchFails(t *testing.T) {
	e := newEnv(t)
	linear(e, "main", 2, 1, 1)
	sum, err := Run(context.Background(), e.opts("main", "gone"))
	if err == nil || !strings.Contains(err.Error(), "gone") || sum.BranchesWritten != 1 {
		t.Fatalf("err=%v sum=%+v", err, sum)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	e := newEnv(t)
	linear(e, "main", 2, 1, 1)
	o := e.opts("main")
	o.DryRun = true
	sum, err := Run(context.Background(), o)
	if err != nil || sum.Branches[0].Result != "would write" || sum.StoreWrites != 0 {
		t.Fatalf("err=%v sum=%+v", err, sum)
	}
	if _, _, err := e.bucket.Read(context.Background(), Key("acme", "app", "main")); err == nil {
		t.Fatal("dry run wrote the snapshot")
	}
}
