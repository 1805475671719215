package githubtest

import (
	"fmt"
	"strings"
	"time"
)

// CheckRun is one check run of a CheckSuite, as a test describes it.
type CheckRun struct {
	// Name is the check run's name (for Actions: the job name).
	Name string
	// Status is a CheckStatusState: QUEUED, IN_PROGRESS, COMPLETED, WAITING,
	// PENDING, REQUESTED. Empty means COMPLETED when Conclusion is set and
	// QUEUED otherwise.
	Status string
	// Conclusion is a CheckConclusionState (SUCCESS, FAILURE, CANCELLED,
	// SKIPPED, NEUTRAL, TIMED_OUT, ACTION_REQUIRED, STALE, STARTUP_FAILURE)
	// or empty while not completed.
	Conclusion string
	// DetailsURL is the run's details URL; empty means a github.com job URL
	// for Actions runs and null for other apps.
	DetailsURL string
	// StartedAt and CompletedAt are optional (zero means null).
	StartedAt, CompletedAt time.Time
}

// CheckSuite is one check suite on a commit.
type CheckSuite struct {
	// AppName and AppSlug name the GitHub App; empty means GitHub Actions
	// ("GitHub Actions", "github-actions").
	AppName, AppSlug string
	// Workflow is the Actions workflow name; suites of other apps have no
	// workflow run.
	Workflow string
	// RunNumber is the workflow run number (Actions only; 0 means 1).
	RunNumber int
	// Runs are the suite's check runs, in creation order.
	Runs []CheckRun
}

// StatusContext is one legacy commit status (the latest for its context).
type StatusContext struct {
	Context string
	// State is a StatusState: SUCCESS, FAILURE, ERROR, PENDING, EXPECTED.
	State       string
	TargetURL   string
	Description string
}

// CommitInfo describes a commit created with Repo.CommitInfo: what GraphQL
// reports for it.
type CommitInfo struct {
	// Message is the full commit message; its first line is the headline.
	// Empty means "Update BRANCH".
	Message string
	// AuthorName and AuthorEmail are the git author; empty means the fake's
	// default author.
	AuthorName, AuthorEmail string
	// AuthorLogin is the linked GitHub user; empty means no linked user.
	AuthorLogin string
	// Date is the authored date; zero means the fake clock.
	Date time.Time
	// PullRequest is the number of the merged pull request the commit came
	// from (0: none).
	PullRequest int
	// Suites and Statuses are the commit's checks (see SetChecks).
	Suites   []CheckSuite
	Statuses []StatusContext
}

// gqlData is the GraphQL side of the fake: per-commit metadata and checks,
// request accounting and injected failures. Guarded by Server.mu.
type gqlData struct {
	commits   map[string]*gqlCommit // sha -> commit data
	suites    map[string]*gqlSuite  // node id -> suite
	nodeLimit int
	failures  []*gqlFail
	calls     []GraphQLCall
	costUsed  int
	// queries whose text contained a substring, for FailGraphQL.
}

// gqlCommit is one commit's GraphQL data.
type gqlCommit struct {
	repo     *Repo
	sha      string
	info     CommitInfo
	authored time.Time
	suites   []*gqlSuite
}

// gqlSuite is a stored check suite with ids.
type gqlSuite struct {
	commit   *gqlCommit
	nodeID   string
	id       int64
	runID    int64 // workflow run database id (Actions)
	spec     CheckSuite
	runIDs   []int64
	created  time.Time
	position int
}

// gqlFail is an injected GraphQL failure.
type gqlFail struct {
	match  string
	status int
	times  int
}

// GraphQLCall records one GraphQL request the fake answered.
type GraphQLCall struct {
	// Query is the query text.
	Query string
	// Nodes is the query's node count as GitHub computes it.
	Nodes int
	// Cost is the rate-limit cost as GitHub computes it (minimum 1); 0 for
	// refused or failed queries.
	Cost int
	// Status is the HTTP status returned.
	Status int
	// Errors are the messages of the "errors" array, if any.
	Errors []string
}

// DefaultGraphQLNodeLimit is GitHub's maximum node count per query.
const DefaultGraphQLNodeLimit = 500000

// gqlLocked returns the GraphQL data, creating it. Caller holds s.mu.
func (s *Server) gqlLocked() *gqlData {
	if s.gql == nil {
		s.gql = &gqlData{commits: map[string]*gqlCommit{}, suites: map[string]*gqlSuite{}, nodeLimit: DefaultGraphQLNodeLimit}
	}
	return s.gql
}

// CommitInfo adds a commit on branch (an empty tree, parent: the branch's
// head) whose GraphQL view is info, and returns its SHA.
func (r *Repo) CommitInfo(branch string, info CommitInfo) string {
	r.s.t.Helper()
	msg := info.Message
	if msg == "" {
		msg = "Update " + branch
	}
	sha, err := r.commitFlat(branch, nil, nil, msg)
	if err != nil {
		r.s.t.Fatalf("githubtest: CommitInfo: %v", err)
	}
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gqlLocked()
	c := &gqlCommit{repo: r, sha: sha, info: info, authored: info.Date}
	c.info.Message = msg
	if c.authored.IsZero() {
		c.authored = commitTime(s.commits[sha].seq)
	}
	g.commits[sha] = c
	s.setChecksLocked(c, info.Suites, info.Statuses)
	return sha
}

// SetChecks replaces the check suites and statuses of commit sha (created
// with CommitInfo or Commit). Suites keep their ids by position, and runs
// by position within a suite, so updating a queued run to completed is the
// same run to a client, as on GitHub.
func (s *Server) SetChecks(sha string, suites []CheckSuite, statuses []StatusContext) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.gqlCommitLocked(sha)
	if c == nil {
		s.t.Fatalf("githubtest: SetChecks: no commit %s", sha)
	}
	s.setChecksLocked(c, suites, statuses)
}

// gqlCommitLocked returns the GraphQL data of sha, creating default data
// for commits made with Commit. Caller holds s.mu.
func (s *Server) gqlCommitLocked(sha string) *gqlCommit {
	g := s.gqlLocked()
	if c := g.commits[sha]; c != nil {
		return c
	}
	gc := s.commits[sha]
	if gc == nil {
		return nil
	}
	var repo *Repo
	for _, r := range s.repos {
		if r.commitSet[sha] {
			repo = r
			break
		}
	}
	c := &gqlCommit{repo: repo, sha: sha, info: CommitInfo{Message: gc.message}, authored: commitTime(gc.seq)}
	g.commits[sha] = c
	return c
}

func (s *Server) setChecksLocked(c *gqlCommit, suites []CheckSuite, statuses []StatusContext) {
	g := s.gqlLocked()
	old := c.suites
	c.suites = nil
	for i, spec := range suites {
		if spec.AppName == "" && spec.AppSlug == "" {
			spec.AppName, spec.AppSlug = "GitHub Actions", "github-actions"
		}
		spec.Runs = append([]CheckRun(nil), spec.Runs...)
		var su *gqlSuite
		if i < len(old) {
			su = old[i]
		} else {
			su = &gqlSuite{commit: c, id: s.id(), created: c.authored.Add(time.Duration(i) * time.Second), position: i}
			su.nodeID = fmt.Sprintf("CS_kwDO%08d", su.id)
			su.runID = s.id()
			g.suites[su.nodeID] = su
		}
		for len(su.runIDs) < len(spec.Runs) {
			su.runIDs = append(su.runIDs, s.id())
		}
		su.spec = spec
		c.suites = append(c.suites, su)
	}
	for _, su := range old[min(len(old), len(suites)):] {
		delete(g.suites, su.nodeID)
	}
	c.info.Suites, c.info.Statuses = nil, append([]StatusContext(nil), statuses...)
}

// SetGraphQLNodeLimit sets the node limit above which queries are refused
// with GitHub's MAX_NODE_LIMIT_EXCEEDED error (default 500,000). Lower it to
// make "too heavy" queries happen at test sizes.
func (s *Server) SetGraphQLNodeLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gqlLocked().nodeLimit = n
}

// FailGraphQL makes the next times GraphQL requests whose query text
// contains match ("" matches any) fail: status 200 answers GitHub's
// "Something went wrong" GraphQL error, 502 its timeout page, others a
// JSON error with that status.
func (s *Server) FailGraphQL(match string, status, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gqlLocked()
	g.failures = append(g.failures, &gqlFail{match: match, status: status, times: times})
}

// GraphQLCalls returns the GraphQL requests answered since the last
// ResetGraphQL (a copy).
func (s *Server) GraphQLCalls() []GraphQLCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]GraphQLCall(nil), s.gqlLocked().calls...)
}

// GraphQLCost returns the summed cost of the GraphQL calls since the last
// ResetGraphQL.
func (s *Server) GraphQLCost() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.gqlLocked().calls {
		n += c.Cost
	}
	return n
}

// ResetGraphQL forgets the recorded GraphQL calls.
func (s *Server) ResetGraphQL() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gqlLocked().calls = nil
}

// takeFailure returns the injected failure matching query, if any.
func (s *Server) takeGraphQLFailure(query string) *gqlFail {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.gqlLocked().failures {
		if f.times > 0 && strings.Contains(query, f.match) {
			f.times--
			return f
		}
	}
	return nil
}
