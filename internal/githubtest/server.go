// Package githubtest is an in-process fake of GitHub's REST API for tests,
// held to GitHub's published OpenAPI description (npm @octokit/openapi):
// every request it serves and every response it returns is validated with
// kin-openapi, and any violation fails the test that started the server.
//
//	s := githubtest.New(t, githubtest.Options{})
//	r := s.AddRepo("acme", "site")
//	sha := r.Commit("main", map[string]string{"a.txt": "hello"})
//	base := s.URL + "/"
//	client, err := github.NewClient(github.WithURLs(&base, &base))
//
// Route keys used by Count, Fail and friends are "METHOD /openapi/template",
// e.g. "GET /repos/{owner}/{repo}/commits/{ref}". Two routes live outside
// the contract and are neither validated nor rate limited: "GET /_codeload"
// (tarball/zipball streams) and "GET /_download" (release asset bytes).
package githubtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// TreeLimit is the number of entries after which a recursive tree
	// listing is truncated (GitHub: 100,000). Zero means 100,000.
	TreeLimit int
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
}

// Violation is one disagreement between the fake (or its client) and
// GitHub's OpenAPI description.
type Violation struct {
	// Route is the route key, e.g. "GET /repos/{owner}/{repo}".
	Route string
	// Kind is "request" (the client sent something the contract forbids)
	// or "response" (the fake answered something the contract forbids).
	Kind string
	// Status is the response status code.
	Status int
	// Err is the validator's message.
	Err string
}

// String renders the violation on one line for test output.
func (v Violation) String() string {
	return v.Kind + " " + v.Route + " (" + http.StatusText(v.Status) + "): " + v.Err
}

// Server is a running fake GitHub. Create it with New; it is closed by
// t.Cleanup. All methods are safe for concurrent use; the exported fields
// must be set before the first request.
type Server struct {
	// URL is the API base URL with a trailing slash, e.g. "http://127.0.0.1:4321/",
	// suitable for go-github's Client.BaseURL.
	URL string
	// AppID is the GitHub App ID JWTs must carry as "iss".
	AppID int64
	// AppPrivateKeyPEM is the PKCS#1 PEM of the app's RSA key.
	AppPrivateKeyPEM []byte
	// Token, when non-empty, is the only personal token accepted: requests
	// (other than app-JWT endpoints) must send "Authorization: token <Token>"
	// or "Bearer <Token>", or an installation token this fake issued.
	// Wrong or missing credentials get 401 like GitHub. Empty: anonymous allowed.
	Token string

	t        testing.TB
	opts     Options
	log      *slog.Logger
	contract *Contract
	srv      *httptest.Server
	appKey   *rsa.PrivateKey
	base     string // URL without trailing slash

	mu            sync.Mutex
	repos         map[string]*Repo // "owner/name" lowercased
	users         map[string]bool  // lowercased logins that are users, not organizations (orgrepos.go)
	blobs         map[string][]byte
	trees         map[string]*gitTree
	commits       map[string]*gitCommit
	seq           int64
	nextID        int64
	installations []*installation
	tokens        map[string]*issuedToken
	assets        map[int64]*assetRec
	failures      []*failRule
	tampers       map[string]TamperFunc
	cuts          []*cutRule // CutBody, cut.go
	cutsDone      int
	rate          rateState
	counts        map[string]int
	total         int
	notModified   int
	bytesServed   int64
	missingAPIVer int
	tokenExchange int
	unimplemented map[string]int
	violations    []Violation
	reqSeq        int64
	gql           *gqlData      // GraphQL side, see graphql*.go
	actions       *actionsState // Actions jobs and App hook deliveries, see actions.go
	issues        *issuesState  // issues and issue comments, see issues.go
}

type rateState struct {
	limit, remaining int
	reset            time.Time
}

// failRule is an injected failure (Fail or SecondaryRateLimit).
type failRule struct {
	route      string
	status     int
	retryAfter time.Duration // > 0: secondary rate limit
	times      int
}

// TamperFunc rewrites a response after the fake produced it and before it is
// validated and sent: it gets the status, headers (mutable) and body, and
// returns the new status and body. Use it to simulate GitHub quirks; a
// tampered response that breaks the contract is reported as a Violation.
type TamperFunc func(status int, h http.Header, body []byte) (int, []byte)

var (
	keyOnce sync.Once
	keyVal  *rsa.PrivateKey
	keyErr  error
)

// appKey returns an RSA key generated once per test process (2048-bit keys
// take a noticeable fraction of a second to make).
func sharedAppKey() (*rsa.PrivateKey, error) {
	keyOnce.Do(func() { keyVal, keyErr = rsa.GenerateKey(rand.Reader, 2048) })
	return keyVal, keyErr
}

// New starts a fake GitHub for t. It loads the OpenAPI contract (see
// RequireContract: skips or fails t if unavailable) and registers a Cleanup
// that closes the server and reports every contract Violation with t.Errorf.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	c := RequireContract(t)
	if opts.TreeLimit <= 0 {
		opts.TreeLimit = 100000
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	key, err := sharedAppKey()
	if err != nil {
		t.Fatalf("githubtest: generate app key: %v", err)
	}
	s := &Server{
		t: t, opts: opts, log: log, contract: c, appKey: key,
		AppID:            424242,
		AppPrivateKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		repos:            map[string]*Repo{},
		blobs:            map[string][]byte{},
		trees:            map[string]*gitTree{},
		commits:          map[string]*gitCommit{},
		nextID:           1000,
		tokens:           map[string]*issuedToken{},
		assets:           map[int64]*assetRec{},
		tampers:          map[string]TamperFunc{},
		rate:             rateState{limit: 5000, remaining: 5000, reset: time.Now().Add(time.Hour)},
		counts:           map[string]int{},
		unimplemented:    map[string]int{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.base = s.srv.URL
	s.URL = s.srv.URL + "/"
	t.Cleanup(func() {
		s.srv.Close()
		for _, v := range s.TakeViolations() {
			t.Errorf("githubtest: GitHub contract violation: %s", v)
		}
	})
	return s
}

// Contract returns the OpenAPI contract the server validates against.
func (s *Server) Contract() *Contract { return s.contract }

// Client returns an *http.Client that talks to the server (plain transport).
func (s *Server) Client() *http.Client { return s.srv.Client() }

func (s *Server) id() int64 {
	s.nextID++
	return s.nextID
}

// Fail makes the next times requests matching route (a route key such as
// "GET /repos/{owner}/{repo}/git/trees/{tree_sha}", or "*" for any API
// route) answer status with a GitHub-style JSON error body.
func (s *Server) Fail(route string, status int, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, &failRule{route: route, status: status, times: times})
}

// SecondaryRateLimit makes the next times requests matching route answer
// 403 with Retry-After and GitHub's secondary-rate-limit message.
func (s *Server) SecondaryRateLimit(route string, retryAfter time.Duration, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if retryAfter < time.Second {
		retryAfter = time.Second
	}
	s.failures = append(s.failures, &failRule{route: route, status: http.StatusForbidden, retryAfter: retryAfter, times: times})
}

// SetRateLimit sets the primary rate limit reported in x-ratelimit-*
// headers. Each API request other than a 304 and GET /rate_limit uses one;
// at zero remaining (before reset) requests get GitHub's 403 rate-limit error.
func (s *Server) SetRateLimit(limit, remaining int, reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rate = rateState{limit: limit, remaining: remaining, reset: reset}
}

// Tamper installs fn for every response of route (a route key); nil removes it.
func (s *Server) Tamper(route string, fn TamperFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fn == nil {
		delete(s.tampers, route)
		return
	}
	s.tampers[route] = fn
}

// Count returns how many requests matched route since the last ResetCounts.
func (s *Server) Count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[route]
}

// Counts returns a copy of all per-route counts.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// Total returns the number of requests served (all routes, codeload included).
func (s *Server) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// NotModified returns how many requests were answered 304.
func (s *Server) NotModified() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notModified
}

// BytesServed returns the response body bytes written (codeload included).
func (s *Server) BytesServed() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytesServed
}

// MissingAPIVersion returns how many API requests lacked X-GitHub-Api-Version.
func (s *Server) MissingAPIVersion() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.missingAPIVer
}

// TokenExchanges returns how many installation tokens were issued.
func (s *Server) TokenExchanges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenExchange
}

// Unimplemented returns route keys that exist in GitHub's contract but that
// the fake does not implement (it answered 404), with their counts.
func (s *Server) Unimplemented() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.unimplemented))
	for k, v := range s.unimplemented {
		out[k] = v
	}
	return out
}

// ResetCounts zeroes every counter (Count, Total, NotModified, BytesServed,
// MissingAPIVersion, TokenExchanges, Unimplemented).
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
	s.unimplemented = map[string]int{}
	s.total, s.notModified, s.bytesServed, s.missingAPIVer, s.tokenExchange = 0, 0, 0, 0, 0
}

// Violations returns the contract violations recorded so far (a copy).
func (s *Server) Violations() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Violation(nil), s.violations...)
}

// TakeViolations returns the recorded violations and forgets them, so a
// test that provokes a violation on purpose can assert it without failing.
func (s *Server) TakeViolations() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.violations
	s.violations = nil
	return v
}

func (s *Server) addViolation(v Violation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.violations = append(s.violations, v)
}

func matchRoute(pattern, key string) bool {
	return pattern == "*" || strings.EqualFold(pattern, key)
}
