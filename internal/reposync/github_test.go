package reposync

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// ghBundle is a fake GitHub with one repository and a mem:// destination.
type ghBundle struct {
	gh   *githubtest.Server
	repo *githubtest.Repo
	url  string
}

func setupGitHub(t *testing.T) *ghBundle {
	t.Helper()
	gh := githubtest.New(t, githubtest.Options{})
	return &ghBundle{gh: gh, repo: gh.AddRepo("acme", "site"),
		url: fmt.Sprintf("mem://%s/www/", strings.ReplaceAll(t.Name(), "/", "-"))}
}

// run syncs github:acme/site@main with a fresh client and bucket (fresh counters).
func (g *ghBundle) run(t *testing.T, mod func(*Options)) *Summary {
	t.Helper()
	ctx := context.Background()
	c, err := github.New(github.Config{BaseURL: g.gh.URL, HTTPClient: g.gh.Client()})
	if err != nil {
		t.Fatal(err)
	}
	api, err := c.For(ctx, "acme", "site")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := source.ParseSpec("github:acme/site@main")
	if err != nil {
		t.Fatal(err)
	}
	src := source.NewGitHub(api, spec, source.GitHubOptions{Stats: func() source.Stats {
		s := c.Stats()
		return source.Stats{Requests: s.Requests, NotModified: s.NotModified, BytesDownloaded: s.BytesDownloaded}
	}})
	b := openBucket(t, g.url)
	o := Options{Job: "site", Source: src, Bucket: b}
	if mod != nil {
		mod(&o)
	}
	s, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if v := g.gh.TakeViolations(); len(v) > 0 {
		t.Fatalf("contract violations: %v", v)
	}
	return s
}

// Must-be-true 1: a run where the branch did not move costs exactly one
// GitHub request, answered 304, one store read and nothing else.
func TestGitHubNoChangeRunIsOne304(t *testing.T) {
	g := setupGitHub(t)
	g.repo.Commit("main", map[string]string{"index.html": "<h1>hi</h1>", "css/site.css": "body{}"})
	if s := g.run(t, nil); s.New != 2 {
		t.Fatalf("cold: %+v", s)
	}
	g.gh.ResetCounts()
	s := g.run(t, nil)
	if !s.UpToDate || s.Unchanged != 2 {
		t.Fatalf("second run: %+v", s)
	}
	if g.gh.Total() != 1 || g.gh.NotModified() != 1 {
		t.Fatalf("GitHub saw %d requests (%d not modified): %v", g.gh.Total(), g.gh.NotModified(), g.gh.Counts())
	}
	if s.GitHubRequests != 1 || s.GitHubNotModified != 1 {
		t.Fatalf("summary github counts: %d/%d", s.GitHubRequests, s.GitHubNotModified)
	}
	if s.StoreRequests["get"] > 1 || s.StoreRequests["list"]+s.StoreRequests["put"]+s.StoreRequests["delete"]+s.StoreRequests["head"] != 0 {
		t.Fatalf("store requests: %v", s.StoreRequests)
	}
}

// Must-be-true 2: one file changed in the Go source tree (~11,500 files):
// bytes downloaded ≤ the file + the tree listing; objects written = 1 + the
// manifest's intent root, the one shard holding the file and the root (the
// manifest is sharded above DefaultManifestInline objects: issue 20), with
// at most 256 KB of manifest bytes.
func TestGitHubOneFileChangedInGoroot(t *testing.T) {
	if testing.Short() {
		t.Skip("loads $(go env GOROOT)/src into the fake GitHub")
	}
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("SKIP: go env GOROOT: %v", err)
	}
	srcDir := filepath.Join(strings.TrimSpace(string(out)), "src")
	g := setupGitHub(t)
	g.repo.CommitDir("main", srcDir)
	cold := g.run(t, nil)
	if cold.New < 10000 {
		t.Fatalf("cold sync wrote only %d objects", cold.New)
	}
	t.Logf("cold: %d objects, %d GitHub requests, %.1f MB downloaded", cold.New, cold.GitHubRequests, float64(cold.BytesDownloaded)/1e6)

	changed := "strings/strings.go"
	body, err := os.ReadFile(filepath.Join(srcDir, changed))
	if err != nil {
		t.Fatal(err)
	}
	body = append(body, []byte("\n// changed by a test\n")...)
	g.repo.Update("main", []githubtest.File{{Path: changed, Content: body}})
	head := g.repo.Head("main")
	treeBytes := g.get(t, "repos/acme/site/git/trees/"+head+"?recursive=1")

	g.gh.ResetCounts()
	s := g.run(t, nil)
	if s.Modified != 1 || s.New != 0 || s.Deleted != 0 || s.Paths.Modified[0] != changed {
		t.Fatalf("summary: %+v", s)
	}
	if s.StoreRequests["put"] != 4 { // the intent marks the file unknown before it is overwritten
		t.Fatalf("objects written: %d, want 4 (the intent root, the file, one manifest shard and the root)", s.StoreRequests["put"])
	}
	if meta := s.BytesUploaded - int64(len(body)); meta > 256<<10 {
		t.Fatalf("%d bytes of manifest written for a one-file change, want at most 256 KB", meta)
	}
	limit := int64(len(body)) + treeBytes + 41 // + the 40-hex commit SHA answer
	if s.BytesDownloaded > limit {
		t.Fatalf("downloaded %d bytes, more than file %d + tree listing %d", s.BytesDownloaded, len(body), treeBytes)
	}
	t.Logf("one change: %d GitHub requests, %d bytes downloaded (file %d + tree %d), store %v",
		s.GitHubRequests, s.BytesDownloaded, len(body), treeBytes, s.StoreRequests)
}

// get reads an API path from the fake and returns the body size.
func (g *ghBundle) get(t *testing.T, path string) int64 {
	t.Helper()
	req, _ := http.NewRequest("GET", g.gh.URL+path, nil)
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := g.gh.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	return n
}

func TestGitHubTruncatedTreeFallsBackToTarball(t *testing.T) {
	gh := githubtest.New(t, githubtest.Options{TreeLimit: 3})
	g := &ghBundle{gh: gh, repo: gh.AddRepo("acme", "site"), url: "mem://truncated/"}
	files := map[string]string{}
	for i := 0; i < 10; i++ {
		files[fmt.Sprintf("d/f%d.txt", i)] = fmt.Sprint("content ", i)
	}
	g.repo.Commit("main", files)
	s := g.run(t, nil)
	if s.New != 10 {
		t.Fatalf("summary: %+v", s)
	}
	b := openBucket(t, g.url)
	data, _, err := b.Read(context.Background(), "d/f7.txt")
	if err != nil || string(data) != "content 7" {
		t.Fatalf("d/f7.txt: %q %v", data, err)
	}
	_ = store.ErrNotExist
}
