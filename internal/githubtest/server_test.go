package githubtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v88/github"
)

// newClient returns a go-github client pointed at s via BaseURL.
func newClient(t testing.TB, s *Server) *github.Client {
	t.Helper()
	base := s.URL + "/"
	c, err := github.NewClient(github.WithURLs(&base, &base))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestValidatorCatchesWrongResponseShape(t *testing.T) {
	s := New(t, Options{})
	r := s.AddRepo("acme", "site")
	r.Commit("main", map[string]string{"a.txt": "hello"})

	// Drop a required field and break a type.
	s.Tamper("GET /repos/{owner}/{repo}/commits/{ref}", func(status int, h http.Header, body []byte) (int, []byte) {
		return status, []byte(`{"url":"not a uri","node_id":1}`)
	})
	resp, _ := do(t, s, http.MethodGet, "repos/acme/site/commits/main")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	vs := s.TakeViolations()
	if len(vs) != 1 || vs[0].Kind != "response" || vs[0].Route != "GET /repos/{owner}/{repo}/commits/{ref}" {
		t.Fatalf("violations = %v, want one response violation on the commits route", vs)
	}
	for _, want := range []string{`"sha" is missing`, `"/node_id"`, `"/url"`} {
		if !strings.Contains(vs[0].Err, want) {
			t.Errorf("violation %q does not mention %s", vs[0].Err, want)
		}
	}

	// A status the contract does not allow for the operation.
	s.Tamper("GET /repos/{owner}/{repo}/commits/{ref}", func(status int, h http.Header, body []byte) (int, []byte) {
		return http.StatusTeapot, body
	})
	do(t, s, http.MethodGet, "repos/acme/site/commits/main")
	if vs := s.TakeViolations(); len(vs) != 1 || !strings.Contains(vs[0].Err, "418 is not documented") {
		t.Fatalf("violations = %v, want undocumented-status violation", vs)
	}

	// An undocumented error status must still look like basic-error.
	s.Tamper("GET /repos/{owner}/{repo}/commits/{ref}", func(status int, h http.Header, body []byte) (int, []byte) {
		h.Set("Content-Type", "text/html")
		return http.StatusBadGateway, []byte("<html>oops</html>")
	})
	do(t, s, http.MethodGet, "repos/acme/site/commits/main")
	if vs := s.TakeViolations(); len(vs) != 1 || !strings.Contains(vs[0].Err, "Content-Type") {
		t.Fatalf("violations = %v, want basic-error violation", vs)
	}
	s.Tamper("GET /repos/{owner}/{repo}/commits/{ref}", nil)

	// The text/sha media type is validated too (schema: string).
	do(t, s, http.MethodGet, "repos/acme/site/commits/main", "Accept", "application/vnd.github.sha")
	noViolations(t, s)

	// A request the contract forbids: asset_id must be an integer.
	resp, _ = do(t, s, http.MethodGet, "repos/acme/site/releases/assets/abc")
	if resp.StatusCode != 404 {
		t.Errorf("bad asset id: status %d, want 404", resp.StatusCode)
	}
	if vs := s.TakeViolations(); len(vs) != 1 || vs[0].Kind != "request" || !strings.Contains(vs[0].Err, "asset_id") {
		t.Fatalf("violations = %v, want one request violation about asset_id", vs)
	}
}

func TestETagAndNotModified(t *testing.T) {
	s := New(t, Options{})
	s.SetRateLimit(100, 100, time.Now().Add(time.Hour))
	r := s.AddRepo("acme", "site")
	first := r.Commit("main", map[string]string{"a.txt": "1"})

	resp, _ := do(t, s, http.MethodGet, "repos/acme/site/commits/main")
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Fatalf("ETag %q is not a strong validator", etag)
	}
	remaining := resp.Header.Get("X-RateLimit-Remaining")

	resp, body := do(t, s, http.MethodGet, "repos/acme/site/commits/main", "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Fatalf("conditional GET = %d with %d bytes, want 304 and empty", resp.StatusCode, len(body))
	}
	if got := resp.Header.Get("X-RateLimit-Remaining"); got != remaining {
		t.Errorf("304 changed x-ratelimit-remaining %s -> %s", remaining, got)
	}
	if s.NotModified() != 1 {
		t.Errorf("NotModified = %d, want 1", s.NotModified())
	}

	second := r.Commit("main", map[string]string{"a.txt": "2"})
	resp, _ = do(t, s, http.MethodGet, "repos/acme/site/commits/main", "If-None-Match", etag)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == etag {
		t.Fatalf("after the ref moved: %d, ETag %q (old %q); want 200 and a new ETag", resp.StatusCode, resp.Header.Get("ETag"), etag)
	}

	// go-github's GetCommitSHA1 sends the last SHA as If-None-Match, relying on
	// GitHub's ETag for the sha media type being the quoted SHA.
	ctx := context.Background()
	c := newClient(t, s)
	got, _, err := c.Repositories.GetCommitSHA1(ctx, "acme", "site", "HEAD", first)
	if err != nil || got != second {
		t.Fatalf("GetCommitSHA1 = %q, %v; want %s", got, err, second)
	}
	_, res, err := c.Repositories.GetCommitSHA1(ctx, "acme", "site", "main", second)
	if res == nil || res.StatusCode != http.StatusNotModified {
		t.Fatalf("GetCommitSHA1 with current SHA: %v, %v; want 304", res, err)
	}
	short, _, err := c.Repositories.GetCommitSHA1(ctx, "acme", "site", second[:7], "")
	if err != nil || short != second {
		t.Fatalf("short SHA resolved to %q, %v", short, err)
	}
	noViolations(t, s)
}

func TestInjectedFailuresAndRateLimits(t *testing.T) {
	s := New(t, Options{})
	r := s.AddRepo("acme", "site")
	sha := r.Commit("main", map[string]string{"a.txt": "x"})
	ctx := context.Background()
	c := newClient(t, s)
	const treeRoute = "GET /repos/{owner}/{repo}/git/trees/{tree_sha}"

	s.Fail(treeRoute, 502, 2)
	for i := 0; i < 2; i++ {
		_, res, err := c.Git.GetTree(ctx, "acme", "site", sha, true)
		var er *github.ErrorResponse
		if !errors.As(err, &er) || res.StatusCode != 502 || er.Message == "" {
			t.Fatalf("try %d: err %v, want 502 ErrorResponse with message", i, err)
		}
	}
	tree, _, err := c.Git.GetTree(ctx, "acme", "site", sha, true)
	if err != nil || len(tree.Entries) != 1 {
		t.Fatalf("after failures: %v, %v", tree, err)
	}

	s.SecondaryRateLimit(treeRoute, 7*time.Second, 1)
	_, _, err = c.Git.GetTree(ctx, "acme", "site", sha, true)
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || abuse.RetryAfter == nil || *abuse.RetryAfter != 7*time.Second {
		t.Fatalf("secondary limit: %v, want AbuseRateLimitError with RetryAfter 7s", err)
	}

	// go-github now refuses requests client-side until Retry-After passes,
	// as it would against GitHub; carry on with a fresh client.
	c = newClient(t, s)
	reset := time.Now().Add(30 * time.Minute).Truncate(time.Second)
	s.SetRateLimit(60, 1, reset)
	_, res, err := c.Repositories.Get(ctx, "acme", "site")
	if err != nil || res.Rate.Remaining != 0 || res.Rate.Limit != 60 || !res.Rate.Reset.Time.Equal(reset) {
		t.Fatalf("last allowed request: %v, rate %+v", err, res.Rate)
	}
	// go-github would now refuse client-side; ask the fake directly.
	resp, body := do(t, s, http.MethodGet, "repos/acme/site")
	if resp.StatusCode != 403 || resp.Header.Get("X-RateLimit-Remaining") != "0" || !strings.Contains(string(body), "API rate limit exceeded") {
		t.Fatalf("primary limit: %d %s remaining=%s", resp.StatusCode, body, resp.Header.Get("X-RateLimit-Remaining"))
	}
	if err := github.CheckResponse(&http.Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)), Request: resp.Request}); !errors.As(err, new(*github.RateLimitError)) {
		t.Errorf("go-github classifies the 403 as %T, want *RateLimitError", err)
	}
	// GET /rate_limit is free and reports the state.
	lim, _, err := c.RateLimit.Get(ctx)
	if err != nil || lim.Core.Remaining != 0 || lim.Core.Limit != 60 {
		t.Fatalf("rate_limit: %+v, %v", lim, err)
	}

	if got := s.Count(treeRoute); got != 4 {
		t.Errorf("Count(tree) = %d, want 4", got)
	}
	if got := s.Count("GET /repos/{owner}/{repo}"); got != 2 {
		t.Errorf("Count(repo) = %d, want 2", got)
	}
	if s.Total() != 7 || s.MissingAPIVersion() != 0 || s.BytesServed() == 0 {
		t.Errorf("Total %d MissingAPIVersion %d BytesServed %d", s.Total(), s.MissingAPIVersion(), s.BytesServed())
	}
	s.ResetCounts()
	if s.Total() != 0 || len(s.Counts()) != 0 || s.BytesServed() != 0 {
		t.Errorf("ResetCounts left %d / %v / %d", s.Total(), s.Counts(), s.BytesServed())
	}
	noViolations(t, s)
}

func TestHeadersUnknownRoutesAndAPIVersion(t *testing.T) {
	s := New(t, Options{})
	resp, body := do(t, s, http.MethodGet, "no/such/route")
	if resp.StatusCode != 404 || !strings.Contains(string(body), `"message":"Not Found"`) || !strings.Contains(string(body), "documentation_url") {
		t.Fatalf("unknown route: %d %s", resp.StatusCode, body)
	}
	for _, h := range []string{"X-GitHub-Request-Id", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Used", "X-RateLimit-Reset", "X-RateLimit-Resource"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	// A real GitHub route the fake does not implement is reported as such.
	do(t, s, http.MethodGet, "repos/acme/site/pulls")
	if got := s.Unimplemented()["GET /repos/{owner}/{repo}/pulls"]; got != 1 {
		t.Errorf("Unimplemented = %v", s.Unimplemented())
	}
	resp, _ = do(t, s, http.MethodGet, "rate_limit", "X-GitHub-Api-Version", "1999-01-01")
	if resp.StatusCode != 400 {
		t.Errorf("unsupported API version: %d, want 400", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"rate_limit", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if s.MissingAPIVersion() != 1 {
		t.Errorf("MissingAPIVersion = %d, want 1", s.MissingAPIVersion())
	}
	noViolations(t, s)
}

func TestTokenAuth(t *testing.T) {
	s := New(t, Options{})
	s.Token = "secret-pat"
	s.AddRepo("acme", "site").Commit("main", map[string]string{"a": "b"})
	for _, tc := range []struct {
		auth   string
		status int
	}{
		{"", 401}, {"token wrong", 401}, {"token secret-pat", 200}, {"Bearer secret-pat", 200},
	} {
		var hdr []string
		if tc.auth != "" {
			hdr = []string{"Authorization", tc.auth}
		}
		resp, body := do(t, s, http.MethodGet, "repos/acme/site", hdr...)
		if resp.StatusCode != tc.status {
			t.Errorf("auth %q: %d, want %d", tc.auth, resp.StatusCode, tc.status)
		}
		if tc.status == 401 && !strings.Contains(string(body), "message") {
			t.Errorf("401 body %s", body)
		}
	}
	noViolations(t, s)
}

func TestReleases(t *testing.T) {
	s := New(t, Options{})
	r := s.AddRepo("acme", "site")
	r.Commit("main", map[string]string{"a": "b"})
	r.AddRelease("v1.0", Asset{Name: "a.bin", Content: []byte("one")})
	r.AddReleaseSpec(ReleaseSpec{Tag: "v2.0-rc1", Prerelease: true})
	r.AddReleaseSpec(ReleaseSpec{Tag: "v3.0", Draft: true})
	ctx := context.Background()
	c := newClient(t, s)
	rel, _, err := c.Repositories.GetLatestRelease(ctx, "acme", "site")
	if err != nil || rel.GetTagName() != "v1.0" || len(rel.Assets) != 1 {
		t.Fatalf("latest = %v, %v; want v1.0 with one asset", rel, err)
	}
	if _, res, err := c.Repositories.GetReleaseByTag(ctx, "acme", "site", "v3.0"); err == nil || res.StatusCode != 404 {
		t.Errorf("draft release by tag: %v, want 404", err)
	}
	id := rel.Assets[0].GetID()
	rc, redirect, err := c.Repositories.DownloadReleaseAsset(ctx, "acme", "site", id, http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	buf := new(strings.Builder)
	if _, err := bufCopy(buf, rc); err != nil || buf.String() != "one" || redirect != "" {
		t.Fatalf("asset bytes %q, redirect %q, err %v", buf.String(), redirect, err)
	}
	if s.Count("GET /_download") != 1 {
		t.Errorf("download count %d", s.Count("GET /_download"))
	}
	a, _, err := c.Repositories.GetReleaseAsset(ctx, "acme", "site", id)
	if err != nil || a.GetSize() != 3 || a.GetName() != "a.bin" {
		t.Fatalf("asset json %v %v", a, err)
	}
	if !strings.HasSuffix(a.GetBrowserDownloadURL(), "/_download/"+strconv.FormatInt(id, 10)+"/a.bin") {
		t.Errorf("browser_download_url %s", a.GetBrowserDownloadURL())
	}
	noViolations(t, s)
}
