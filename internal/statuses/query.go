package statuses

import (
	"fmt"
	"strings"
)

// sizes are the page sizes of one details query.
type sizes struct {
	// commits per request, suites per commit page, runs per suite page.
	commits, suites, runs int
}

// nodes is GitHub's node count of a details query for n commits.
func (s sizes) nodes(n int, withPR bool) int {
	pr := 0
	if withPR {
		pr = n
	}
	return n*s.suites + n*s.suites*s.runs + pr
}

// headsQuery asks for every branch's head and its first n history oids in
// one request. Variables: owner, name, b0..bN (qualified ref names).
func headsQuery(branches []string, n int) (string, map[string]any) {
	var decl, body strings.Builder
	vars := map[string]any{}
	decl.WriteString("$owner: String!, $name: String!")
	for i, b := range branches {
		fmt.Fprintf(&decl, ", $b%d: String!", i)
		vars[fmt.Sprintf("b%d", i)] = "refs/heads/" + b
		fmt.Fprintf(&body, "    b%d: ref(qualifiedName: $b%d) { target { oid ... on Commit { history(first: %d) { pageInfo { hasNextPage endCursor } nodes { oid } } } } }\n", i, i, n)
	}
	q := "query Heads(" + decl.String() + ") {\n  rateLimit { cost }\n  repository(owner: $owner, name: $name) {\n" + body.String() + "  }\n}\n"
	return q, vars
}

// historyPage is a continuation of one branch's oid list.
type historyPage struct {
	branch int
	head   string
	after  string
	first  int
}

// historyQuery continues oid lists past the first page.
func historyQuery(pages []historyPage) (string, map[string]any) {
	var decl, body strings.Builder
	vars := map[string]any{}
	decl.WriteString("$owner: String!, $name: String!")
	for i, p := range pages {
		fmt.Fprintf(&decl, ", $a%d: String!", i)
		vars[fmt.Sprintf("a%d", i)] = p.after
		fmt.Fprintf(&body, "    h%d: object(oid: %q) { ... on Commit { history(first: %d, after: $a%d) { pageInfo { hasNextPage endCursor } nodes { oid } } } }\n", i, p.head, p.first, i)
	}
	q := "query History(" + decl.String() + ") {\n  rateLimit { cost }\n  repository(owner: $owner, name: $name) {\n" + body.String() + "  }\n}\n"
	return q, vars
}

// fragments returns the Commit, CheckSuite and CheckRun fragments.
func fragments(sz sizes, ghsync bool) string {
	commitExtra, runExtra := "", ""
	if ghsync {
		commitExtra = "\n  associatedPullRequests(first: 1) { nodes { number } }"
		runExtra = " startedAt completedAt"
	}
	return fmt.Sprintf(`fragment C on Commit {
  oid messageHeadline messageBody authoredDate
  author { name user { login } }
  status { contexts { context state targetUrl } }%s
  checkSuites(first: %d) { pageInfo { hasNextPage endCursor } nodes { ...S } }
}
fragment S on CheckSuite {
  id databaseId app { name slug } workflowRun { databaseId runNumber workflow { name } }
  checkRuns(first: %d) { pageInfo { hasNextPage endCursor } nodes { ...R } }
}
fragment R on CheckRun { databaseId name status conclusion detailsUrl%s }
`, commitExtra, sz.suites, sz.runs, runExtra)
}

// detailsQuery fetches commits by oid with their checks.
func detailsQuery(shas []string, sz sizes, ghsync bool) string {
	var b strings.Builder
	b.WriteString("query Details($owner: String!, $name: String!) {\n  rateLimit { cost }\n  repository(owner: $owner, name: $name) {\n")
	for i, sha := range shas {
		fmt.Fprintf(&b, "    c%d: object(oid: %q) { ...C }\n", i, sha)
	}
	b.WriteString("  }\n}\n")
	b.WriteString(fragments(sz, ghsync))
	return b.String()
}

// contItem is a nested page still to fetch: more suites of a commit
// (suiteID empty) or more runs of a suite.
type contItem struct {
	sha     string
	suiteID string
	after   string
}

// contQuery fetches the next pages of nested connections.
func contQuery(items []contItem, sz sizes, ghsync bool) (string, map[string]any) {
	var decl, repo, top strings.Builder
	vars := map[string]any{}
	decl.WriteString("$owner: String!, $name: String!")
	for i, it := range items {
		fmt.Fprintf(&decl, ", $a%d: String!", i)
		vars[fmt.Sprintf("a%d", i)] = it.after
		if it.suiteID == "" {
			fmt.Fprintf(&repo, "    p%d: object(oid: %q) { ... on Commit { checkSuites(first: %d, after: $a%d) { pageInfo { hasNextPage endCursor } nodes { ...S } } } }\n", i, it.sha, sz.suites, i)
			continue
		}
		fmt.Fprintf(&decl, ", $s%d: ID!", i)
		vars[fmt.Sprintf("s%d", i)] = it.suiteID
		fmt.Fprintf(&top, "  r%d: node(id: $s%d) { ... on CheckSuite { checkRuns(first: 100, after: $a%d) { pageInfo { hasNextPage endCursor } nodes { ...R } } } }\n", i, i, i)
	}
	var b strings.Builder
	b.WriteString("query More(" + decl.String() + ") {\n  rateLimit { cost }\n")
	b.WriteString(top.String())
	if repo.Len() > 0 {
		b.WriteString("  repository(owner: $owner, name: $name) {\n" + repo.String() + "  }\n")
	} else {
		// Keep $owner and $name used: GraphQL rejects unused variables.
		b.WriteString("  repository(owner: $owner, name: $name) { id }\n")
	}
	b.WriteString("}\n")
	frag := fragments(sz, ghsync)
	// Only the fragments the query uses may be sent (unused ones are errors).
	if repo.Len() == 0 {
		frag = frag[strings.Index(frag, "fragment R "):]
	} else {
		frag = frag[strings.Index(frag, "fragment S "):]
	}
	b.WriteString(frag)
	return b.String(), vars
}

// contNodes is the node count of one continuation item.
func contNodes(it contItem, sz sizes) int {
	if it.suiteID == "" {
		return sz.suites + sz.suites*sz.runs
	}
	return 100
}

// Response shapes.
type pageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

type rawRun struct {
	DatabaseID  int64  `json:"databaseId"`
	Name        string `json:"name"`
	Status      string `json:"status"`
	Conclusion  string `json:"conclusion"`
	DetailsURL  string `json:"detailsUrl"`
	StartedAt   string `json:"startedAt"`
	CompletedAt string `json:"completedAt"`
}

type runConn struct {
	PageInfo pageInfo `json:"pageInfo"`
	Nodes    []rawRun `json:"nodes"`
}

type rawSuite struct {
	ID         string `json:"id"`
	DatabaseID int64  `json:"databaseId"`
	App        *struct {
		Name string `json:"name"`
		Slug string `json:"slug"`
	} `json:"app"`
	WorkflowRun *struct {
		DatabaseID int64 `json:"databaseId"`
		RunNumber  int   `json:"runNumber"`
		Workflow   *struct {
			Name string `json:"name"`
		} `json:"workflow"`
	} `json:"workflowRun"`
	CheckRuns *runConn `json:"checkRuns"`
}

type suiteConn struct {
	PageInfo pageInfo   `json:"pageInfo"`
	Nodes    []rawSuite `json:"nodes"`
}

type rawCommit struct {
	OID             string `json:"oid"`
	MessageHeadline string `json:"messageHeadline"`
	MessageBody     string `json:"messageBody"`
	AuthoredDate    string `json:"authoredDate"`
	Author          *struct {
		Name string `json:"name"`
		User *struct {
			Login string `json:"login"`
		} `json:"user"`
	} `json:"author"`
	Status *struct {
		Contexts []struct {
			Context   string `json:"context"`
			State     string `json:"state"`
			TargetURL string `json:"targetUrl"`
		} `json:"contexts"`
	} `json:"status"`
	AssociatedPullRequests *struct {
		Nodes []struct {
			Number int `json:"number"`
		} `json:"nodes"`
	} `json:"associatedPullRequests"`
	CheckSuites *suiteConn `json:"checkSuites"`
}
