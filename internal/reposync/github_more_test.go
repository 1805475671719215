package reposync

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/reposync/source"
)

// runSpec syncs an arbitrary GitHub source spec into url.
func (g *ghBundle) runSpec(t *testing.T, spec string, assets bool, mod func(*Options)) *Summary {
	t.Helper()
	ctx := context.Background()
	c, err := github.New(github.Config{BaseURL: g.gh.URL, HTTPClient: g.gh.Client()})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := source.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	api, err := c.For(ctx, sp.Owner, sp.Repo)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Job: "t", Source: source.NewGitHub(api, sp, source.GitHubOptions{Assets: assets}), Bucket: openBucket(t, g.url)}
	if mod != nil {
		mod(&o)
	}
	s, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("run %s: %v", spec, err)
	}
	if v := g.gh.TakeViolations(); len(v) > 0 {
		t.Fatalf("contract violations: %v", v)
	}
	return s
}

func TestGitHubReleaseWithAssetsUnderKeyTemplate(t *testing.T) {
	g := setupGitHub(t)
	g.repo.Commit("main", map[string]string{"tpl/a.yaml": "a: 1"})
	g.repo.AddRelease("v1.0", githubtest.Asset{Name: "bundle.bin", Content: []byte("BIN1")})
	s := g.runSpec(t, "github:acme/site@release:latest", true, func(o *Options) { o.KeyTemplate = "{repo}/{tag}/" })
	if s.New != 2 || s.Ref != "v1.0" {
		t.Fatalf("summary: %+v", s)
	}
	b := openBucket(t, g.url)
	for key, want := range map[string]string{"site/v1.0/tpl/a.yaml": "a: 1", "site/v1.0/assets/bundle.bin": "BIN1"} {
		data, _, err := b.Read(context.Background(), key)
		if err != nil || string(data) != want {
			t.Fatalf("%s: %q, %v", key, data, err)
		}
	}
	// A new release lands beside the old one; the old one is kept.
	g.repo.Commit("main", map[string]string{"tpl/a.yaml": "a: 2"})
	g.repo.AddRelease("v2.0")
	s = g.runSpec(t, "github:acme/site@release:latest", true, func(o *Options) { o.KeyTemplate = "{repo}/{tag}/" })
	if s.New != 1 || s.Deleted != 0 {
		t.Fatalf("second release: %+v", s)
	}
	if _, _, err := b.Read(context.Background(), "site/v1.0/tpl/a.yaml"); err != nil {
		t.Fatalf("old release removed: %v", err)
	}
	if s := g.runSpec(t, "github:acme/site@release:latest", true, func(o *Options) { o.KeyTemplate = "{repo}/{tag}/" }); !s.UpToDate {
		t.Fatalf("third run should be up to date: %+v", s)
	}
}

func TestGitHubArchiveModeStreamsZipball(t *testing.T) {
	g := setupGitHub(t)
	g.repo.Commit("main", map[string]string{"a.txt": "A", "d/b.txt": "B"})
	s := g.run(t, func(o *Options) { o.Mode = ModeArchive })
	if s.New != 1 {
		t.Fatalf("summary: %+v", s)
	}
	data, _, err := openBucket(t, g.url).Read(context.Background(), "site.zip")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	if len(names) < 2 {
		t.Fatalf("zip entries: %v", names)
	}
	if s := g.run(t, func(o *Options) { o.Mode = ModeArchive }); !s.UpToDate {
		t.Fatalf("second archive run: %+v", s)
	}
}

// The cost model picks one tarball when many files changed, raw blobs when few.
func TestGitHubCostModelChoosesTarballForManyChanges(t *testing.T) {
	g := setupGitHub(t)
	files := map[string]string{}
	for i := 0; i < 300; i++ {
		files[fmt.Sprintf("f%03d.txt", i)] = fmt.Sprint("v1 ", i)
	}
	g.repo.Commit("main", files)
	g.run(t, nil)
	for i := 0; i < 200; i++ {
		files[fmt.Sprintf("f%03d.txt", i)] = fmt.Sprint("v2 ", i)
	}
	g.repo.Commit("main", files)
	g.gh.ResetCounts()
	if s := g.run(t, nil); s.Modified != 200 {
		t.Fatalf("summary: %+v", s)
	}
	if n := g.gh.Count("GET /repos/{owner}/{repo}/git/blobs/{file_sha}"); n != 0 {
		t.Fatalf("%d blob requests for 200 changes; want the tarball", n)
	}
	if n := g.gh.Count("GET /repos/{owner}/{repo}/tarball/{ref}"); n != 1 {
		t.Fatalf("tarball requests: %d (%v)", n, g.gh.Counts())
	}
	g.repo.Update("main", []githubtest.File{{Path: "f250.txt", Content: []byte("v3")}})
	g.gh.ResetCounts()
	g.run(t, nil)
	if n := g.gh.Count("GET /repos/{owner}/{repo}/git/blobs/{file_sha}"); n != 1 {
		t.Fatalf("blob requests for one change: %d (%v)", n, g.gh.Counts())
	}
}
