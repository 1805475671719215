package githubtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/validator"
)

// postGraphQL sends query to the fake at path with the server's token.
func postGraphQL(t *testing.T, s *Server, path, query string, vars map[string]any, auth bool) (int, map[string]any) {
	st, out, _ := postGraphQLRaw(t, s, path, query, vars, auth)
	return st, out
}

func postGraphQLRaw(t *testing.T, s *Server, path, query string, vars map[string]any, auth bool) (int, map[string]any, []byte) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL+strings.TrimPrefix(path, "/"), bytes.NewReader(body))
	if auth {
		req.Header.Set("Authorization", "bearer "+s.Token)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response is not JSON: %s", raw)
	}
	return resp.StatusCode, out, raw
}

// GitHub's documented examples ("GraphQL resource limitations").
func TestGraphQLNodeCountAndCostDocsExamples(t *testing.T) {
	schema := RequireGraphQLSchema(t)
	cases := []struct {
		query           string
		nodes, requests int
	}{
		{`query { viewer { repositories(first: 50) { edges { repository: node { name issues(first: 10) { totalCount edges { node { title bodyHTML } } } } } } } }`, 550, 51},
		{`query {
		  viewer {
		    repositories(first: 50) { edges { repository: node { name
		      pullRequests(first: 20) { edges { pullRequest: node { title comments(first: 10) { edges { comment: node { bodyHTML } } } } } }
		      issues(first: 20) { totalCount edges { issue: node { title bodyHTML comments(first: 10) { edges { comment: node { bodyHTML } } } } } }
		    } } }
		    followers(first: 10) { edges { follower: node { login } } }
		  }
		}`, 22060, 0},
		{`query { viewer { login repositories(first: 100) { edges { node { id issues(first: 50) { edges { node { id labels(first: 60) { edges { node { id name } } } } } } } } } } }`, 305100, 5101},
	}
	for i, c := range cases {
		doc, errs := parseAndValidate(schema, c.query)
		if len(errs) > 0 {
			t.Fatalf("case %d invalid: %v", i, errs)
		}
		vars, _ := validator.VariableValues(schema, doc.Operations[0], nil)
		nodes, requests, err := countNodes(doc.Operations[0].SelectionSet, vars, 1)
		if err != nil {
			t.Fatalf("case %d: %v", i, err.Message)
		}
		if nodes != c.nodes || (c.requests != 0 && requests != c.requests) {
			t.Errorf("case %d: nodes %d requests %d, want %d and %d", i, nodes, requests, c.nodes, c.requests)
		}
	}
}

func TestGraphQLAnswersAndValidates(t *testing.T) {
	s := New(t, Options{})
	s.Token = "tok"
	r := s.AddRepo("acme", "app")
	sha := r.CommitInfo("main", CommitInfo{Message: "Fix it\n\nLonger text", AuthorLogin: "octo",
		Suites:   []CheckSuite{{Workflow: "CI", Runs: []CheckRun{{Name: "build", Conclusion: "SUCCESS"}, {Name: "lint", Status: "IN_PROGRESS"}}}},
		Statuses: []StatusContext{{Context: "ci/old", State: "PENDING", TargetURL: "https://ci.example/1"}}})
	q := `query($o: String!) { rateLimit { cost nodeCount } repository(owner: $o, name: "app") {
	  ref(qualifiedName: "refs/heads/main") { target { oid ... on Commit { messageHeadline messageBody author { user { login } }
	    status { contexts { context state } }
	    checkSuites(first: 5) { totalCount nodes { app { slug } workflowRun { workflow { name } } checkRuns(first: 1) { pageInfo { hasNextPage endCursor } nodes { name status conclusion detailsUrl } } } } } } } } }`
	for _, path := range []string{"/graphql", "/api/graphql"} {
		st, out, b := postGraphQLRaw(t, s, path, q, map[string]any{"o": "acme"}, true)
		if st != 200 || out["errors"] != nil {
			t.Fatalf("%s: %d %v", path, st, out)
		}
		for _, want := range []string{`"cost":1`, `"nodeCount":10`, `"oid":"` + sha, `"messageHeadline":"Fix it"`, `"messageBody":"Longer text"`,
			`"login":"octo"`, `"context":"ci/old","state":"PENDING"`, `"slug":"github-actions"`, `"name":"CI"`, `"hasNextPage":true`,
			`"name":"build","status":"COMPLETED","conclusion":"SUCCESS"`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s: response lacks %s: %s", path, want, b)
			}
		}
	}
	if n := len(s.GraphQLCalls()); n != 2 {
		t.Fatalf("recorded %d calls", n)
	}

	// A field GitHub does not have is a violation that fails the test.
	_, out := postGraphQL(t, s, "/graphql", `{ repository(owner: "acme", name: "app") { bogusField } }`, nil, true)
	if out["errors"] == nil {
		t.Fatal("bogus field answered without errors")
	}
	if v := s.TakeViolations(); len(v) != 1 || !strings.Contains(v[0].Err, "bogusField") {
		t.Fatalf("violations %v", v)
	}
	// A connection without first/last is refused, like GitHub.
	_, out = postGraphQL(t, s, "/graphql", `{ repository(owner: "acme", name: "app") { ref(qualifiedName: "main") { target { ... on Commit { history { totalCount } } } } } }`, nil, true)
	if b, _ := json.Marshal(out); !strings.Contains(string(b), "You must provide a `first` or `last` value") {
		t.Fatalf("missing first accepted: %s", b)
	}
	s.TakeViolations()
	// Over the node limit: GitHub's MAX_NODE_LIMIT_EXCEEDED.
	s.SetGraphQLNodeLimit(5)
	_, out = postGraphQL(t, s, "/graphql", q, map[string]any{"o": "acme"}, true)
	if b, _ := json.Marshal(out); !strings.Contains(string(b), "MAX_NODE_LIMIT_EXCEEDED") || out["data"] != nil {
		t.Fatalf("over the limit: %s", b)
	}
	// Unauthenticated.
	if st, _ := postGraphQL(t, s, "/graphql", q, nil, false); st != http.StatusUnauthorized {
		t.Fatalf("anonymous: %d", st)
	}
	// Injected failure.
	s.SetGraphQLNodeLimit(DefaultGraphQLNodeLimit)
	s.FailGraphQL("rateLimit", 502, 1)
	if st, _ := postGraphQL(t, s, "/graphql", q, map[string]any{"o": "acme"}, true); st != http.StatusBadGateway {
		t.Fatalf("injected failure: %d", st)
	}
}
