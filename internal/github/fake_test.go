package github

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"github.com/ghsync/ghsync/internal/ctxtime"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/githubtest"
)

// These tests run the client against the contract-checked fake GitHub: any
// request or response that disagrees with GitHub's OpenAPI description fails
// the test (reported by the fake's cleanup).

func newFakeClient(t *testing.T, s *githubtest.Server, cfg Config) (*Client, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cfg.BaseURL = s.URL
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	return c, logs
}

func TestFakeGitHubAppRepoFlow(t *testing.T) {
	s := githubtest.New(t, githubtest.Options{})
	repo := s.AddRepo("octo", "hello")
	files := map[string]string{"README.md": "# hi\n", "src/main.go": "package main\n", "docs/a/b.txt": strings.Repeat("b", 5000)}
	head := repo.Commit("main", files)
	s.AddInstallation("octo")
	c, logs := newFakeClient(t, s, Config{AppID: s.AppID, PrivateKey: s.AppPrivateKeyPEM})
	ctx := context.Background()

	r, err := c.For(ctx, "octo", "hello")
	if err != nil {
		t.Fatal(err)
	}
	sha, etag, nm, err := r.ResolveCommit(ctx, "", "")
	if err != nil || sha != head || etag == "" || nm {
		t.Fatalf("ResolveCommit(HEAD) = %q %q %v %v; head %q", sha, etag, nm, err, head)
	}
	if sha2, _, _, err := r.ResolveCommit(ctx, "main", ""); err != nil || sha2 != head {
		t.Fatalf("ResolveCommit(main) = %q %v", sha2, err)
	}
	_, _, nm, err = r.ResolveCommit(ctx, "", etag)
	if err != nil || !nm {
		t.Fatalf("conditional ResolveCommit: notModified=%v err=%v", nm, err)
	}

	entries, truncated, err := r.Tree(ctx, sha)
	if err != nil || truncated {
		t.Fatalf("Tree: %v truncated=%v", err, truncated)
	}
	got := map[string]string{}
	for _, e := range entries {
		if e.Type != "blob" {
			continue
		}
		rc, err := r.Blob(ctx, e.SHA)
		if err != nil {
			t.Fatalf("Blob %s: %v", e.Path, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || int64(len(b)) != e.Size {
			t.Fatalf("Blob %s: %d bytes (tree says %d), %v", e.Path, len(b), e.Size, err)
		}
		got[e.Path] = string(b)
	}
	if len(got) != len(files) {
		t.Fatalf("tree blobs %v, want %d files", got, len(files))
	}
	for p, want := range files {
		if got[p] != want {
			t.Errorf("%s = %q, want %q", p, got[p], want)
		}
	}

	rc, err := r.Archive(ctx, "tarball", sha)
	if err != nil {
		t.Fatal(err)
	}
	names := tarNames(t, rc)
	rc.Close()
	if len(names) < len(files) {
		t.Fatalf("tarball entries %v", names)
	}

	st := c.Stats()
	if s.TokenExchanges() != 1 || st.ByRoute["POST /app/installations/{installation_id}/access_tokens"] != 1 {
		t.Fatalf("token exchanges: fake %d, stats %+v", s.TokenExchanges(), st)
	}
	if st.Requests != s.Total() || st.NotModified != s.NotModified() || st.NotModified != 1 {
		t.Fatalf("client counted %d requests / %d 304s; fake served %d / %d", st.Requests, st.NotModified, s.Total(), s.NotModified())
	}
	if st.BytesDownloaded != s.BytesServed() {
		t.Errorf("BytesDownloaded %d, fake served %d", st.BytesDownloaded, s.BytesServed())
	}
	if s.MissingAPIVersion() != 0 {
		t.Fatalf("%d requests lacked X-GitHub-Api-Version", s.MissingAPIVersion())
	}
	if rem, _, known := c.RateRemaining(); !known || rem <= 0 {
		t.Fatalf("RateRemaining = %d %v", rem, known)
	}
	if tok, _, err := c.InstallationToken(ctx, "octo"); err != nil || tok == "" || strings.Contains(logs.String(), tok) {
		t.Fatalf("InstallationToken: err %v, token logged: %v", err, tok != "" && strings.Contains(logs.String(), tok))
	}
	if s.TokenExchanges() != 1 {
		t.Fatalf("InstallationToken re-exchanged: %d", s.TokenExchanges())
	}
}

func tarNames(t *testing.T, r io.Reader) []string {
	t.Helper()
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("tar: %v", err)
		}
		names = append(names, h.Name)
	}
}

func TestFakeGitHubReleaseAndAsset(t *testing.T) {
	s := githubtest.New(t, githubtest.Options{})
	repo := s.AddRepo("octo", "rel")
	repo.Commit("main", map[string]string{"a": "1"})
	content := bytes.Repeat([]byte{0, 1, 2, 3}, 10_000)
	repo.AddRelease("v1.0.0", githubtest.Asset{Name: "bin.tar.gz", Content: content})
	c, _ := newFakeClient(t, s, Config{})
	ctx := context.Background()
	r, err := c.For(ctx, "octo", "rel")
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"latest", "v1.0.0"} {
		rel, err := r.Release(ctx, tag)
		if err != nil {
			t.Fatalf("Release(%s): %v", tag, err)
		}
		if rel.TagName != "v1.0.0" || len(rel.Assets) != 1 || rel.Assets[0].Name != "bin.tar.gz" || rel.Assets[0].Size != int64(len(content)) {
			t.Fatalf("Release(%s) = %+v", tag, rel)
		}
		rc, err := r.Asset(ctx, rel.Assets[0].ID)
		if err != nil {
			t.Fatalf("Asset: %v", err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(b, content) {
			t.Fatalf("asset content differs: %d bytes", len(b))
		}
	}
	if _, err := r.Release(ctx, "v9"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Release(v9) err = %v", err)
	}
}

func TestFakeGitHubFailuresAndLimits(t *testing.T) {
	s := githubtest.New(t, githubtest.Options{})
	repo := s.AddRepo("octo", "flaky")
	head := repo.Commit("main", map[string]string{"a": "1"})
	s.Token = "ghp_test"
	c, _ := newFakeClient(t, s, Config{Token: "ghp_test"})
	ctx := context.Background()
	r, err := c.For(ctx, "octo", "flaky")
	if err != nil {
		t.Fatal(err)
	}
	const route = "GET /repos/{owner}/{repo}/commits/{ref}"
	s.Fail(route, http.StatusBadGateway, 2)
	s.SecondaryRateLimit(route, 2*time.Second, 1)
	sha, _, _, err := r.ResolveCommit(ctx, "main", "")
	if err != nil || sha != head {
		t.Fatalf("ResolveCommit = %q, %v", sha, err)
	}
	st := c.Stats()
	if st.Retries != 2 || st.RateLimitWaits != 1 || s.Count(route) != 4 {
		t.Fatalf("stats %+v, fake count %d", st, s.Count(route))
	}

	s.Fail(route, http.StatusServiceUnavailable, 5) // exactly 1 + MaxRetries(4)
	_, _, _, err = r.ResolveCommit(ctx, "main", "")
	if err == nil || !strings.Contains(err.Error(), "gave up after 5 attempts") {
		t.Fatalf("err = %v", err)
	}

	bad, _ := newFakeClient(t, s, Config{Token: "ghp_wrong"})
	br, err := bad.For(ctx, "octo", "flaky")
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = br.ResolveCommit(ctx, "other-branch", "")
	if !errors.Is(err, ErrUnauthorized) || strings.Contains(err.Error(), "ghp_wrong") {
		t.Fatalf("wrong token err = %v", err)
	}
}

func TestFakeGitHubNotFound(t *testing.T) {
	s := githubtest.New(t, githubtest.Options{})
	repo := s.AddRepo("octo", "secret")
	repo.Commit("main", map[string]string{"a": "1"})
	repo.SetPrivate(true)
	c, _ := newFakeClient(t, s, Config{})
	ctx := context.Background()
	r, _ := c.For(ctx, "octo", "secret")
	_, _, _, err := r.ResolveCommit(ctx, "main", "")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	mustContain(t, err.Error(), "octo/secret", "private")

	pub := s.AddRepo("octo", "pub")
	pub.Commit("main", map[string]string{"a": "1"})
	r, _ = c.For(ctx, "octo", "pub")
	_, _, _, err = r.ResolveCommit(ctx, "no-such-branch", "")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	mustContain(t, err.Error(), `ref "no-such-branch" in octo/pub not found`)
}

func TestFakeGitHubPrimaryRateLimitRealWait(t *testing.T) {
	s := githubtest.New(t, githubtest.Options{})
	repo := s.AddRepo("octo", "busy")
	head := repo.Commit("main", map[string]string{"a": "1"})
	c, _ := newFakeClient(t, s, Config{MaxWait: 5 * time.Second})
	c.sleep = ctxtime.Sleep // real clock and real waiting
	r, _ := c.For(context.Background(), "octo", "busy")
	s.SetRateLimit(60, 0, time.Now().Add(time.Second))
	start := time.Now()
	sha, _, _, err := r.ResolveCommit(context.Background(), "main", "")
	if err != nil || sha != head {
		t.Fatalf("ResolveCommit = %q, %v", sha, err)
	}
	if waited := time.Since(start); waited < 500*time.Millisecond || c.Stats().RateLimitWaits != 1 {
		t.Fatalf("waited %v, stats %+v", waited, c.Stats())
	}

	s.SetRateLimit(60, 0, time.Now().Add(time.Hour))
	_, _, _, err = r.ResolveCommit(context.Background(), "main", "")
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v", err)
	}
	mustContain(t, err.Error(), "primary rate limit exhausted", "maximum wait of 5s")
}

func TestFakeGitHubRevokedTokenIsRenewedOnce(t *testing.T) {
	s := githubtest.New(t, githubtest.Options{})
	repo := s.AddRepo("octo", "rot")
	head := repo.Commit("main", map[string]string{"a": "1"})
	s.AddInstallation("octo")
	c, _ := newFakeClient(t, s, Config{AppID: s.AppID, PrivateKey: s.AppPrivateKeyPEM})
	ctx := context.Background()
	r, err := c.For(ctx, "octo", "rot")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := r.ResolveCommit(ctx, "main", ""); err != nil {
		t.Fatal(err)
	}
	s.ExpireTokens() // GitHub now refuses the cached token although it looks valid
	sha, _, _, err := r.ResolveCommit(ctx, "main", "")
	if err != nil || sha != head {
		t.Fatalf("after revocation: %q, %v", sha, err)
	}
	if s.TokenExchanges() != 2 {
		t.Fatalf("token exchanges = %d, want 2", s.TokenExchanges())
	}
}
