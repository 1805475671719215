package jobs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/reposync"
	"github.com/ghsync/ghsync/internal/testkit/cloudflaretest"
)

// invalidate: takes one URL or a list; cdn: is checked where it matters.
func TestRepoInvalidateConfig(t *testing.T) {
	env := func(k string) string { return map[string]string{"CF_TOKEN": "tok"}[k] }
	base := "jobs:\n  - name: site\n    kind: repo\n    source: ./src\n    dest: file:///tmp/out/\n"
	cfg, err := ParseConfig([]byte(base+"    invalidate: cloudfront://E2ABCDEF123456\n"), "t.yaml", env)
	if err != nil {
		t.Fatal(err)
	}
	r := RepoOf(cfg.Jobs[0])
	if !slices.Equal(r.Invalidate, []string{"cloudfront://E2ABCDEF123456"}) {
		t.Fatalf("one URL: %q", r.Invalidate)
	}
	if n := Builtin().Needs(cfg.Jobs[0]); !slices.Equal(n.CloudFront, []string{"E2ABCDEF123456"}) {
		t.Fatalf("needs: CloudFront %q", n.CloudFront)
	}
	cfg, err = ParseConfig([]byte(base+"    invalidate: [cloudfront://E1, cloudflare://zone1]\n    cdn:\n      base_url: https://www.example.com\n      token: ${CF_TOKEN}\n      wildcard_above: 100\n"), "t.yaml", env)
	if err != nil {
		t.Fatal(err)
	}
	if r := RepoOf(cfg.Jobs[0]); len(r.Invalidate) != 2 || r.CDN == nil || r.CDN.WildcardAbove != 100 {
		t.Fatalf("list: %q, %+v", r.Invalidate, r.CDN)
	}
	for _, c := range []struct{ yaml, want string }{
		{"    invalidate: s3://x\n", "invalidate[0]"},
		{"    invalidate: cloudflare://zone1\n", "cdn.base_url"},
		{"    invalidate: cloudflare://zone1\n    cdn:\n      base_url: https://x.example\n", "cdn.token"},
		{"    cdn:\n      path_prefix: /x\n", "invalidate: names no CDN"},
		{"    invalidate: cloudfront://E1\n    cdn:\n      wildcard_above: 0\n", "cdn.wildcard_above"},
	} {
		_, err := ParseConfig([]byte(base+c.yaml), "t.yaml", env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one about %s", c.yaml, err, c.want)
		}
	}
}

// Issue 20: a sync lists every key it wrote or deleted (Summary.Keys) only
// for a job with invalidate:, whose CDN invalidation covers them; the
// summary of a job without holds no key list (16 MB at a million files).
func TestRepoKeysRecordedOnlyForInvalidation(t *testing.T) {
	fake := cloudflaretest.New(t, "tok")
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"a.txt": "A", "b/c.txt": "C"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := `jobs:
  - name: site
    kind: repo
    source: dir:` + src + `
    dest: mem://keys-site/
    invalidate: cloudflare://023e105f4ecef8ad9ca31a8372d0c353?endpoint=` + fake.URL + `
    cdn:
      base_url: https://www.example.com
      token: ${CF_TOKEN}
  - name: plain
    kind: repo
    source: dir:` + src + `
    dest: mem://keys-plain/
`
	r := runner(t, cfg, map[string]string{"CF_TOKEN": "tok"})
	want := []string{"a.txt", "b/c.txt"}

	res, err := r.Run(t.Context(), "site", RunOptions{NoAlerts: true})
	if err != nil {
		t.Fatalf("job with invalidate: %v", err)
	}
	rs, ok := res.Summary.(*repoRunSummary)
	if !ok {
		t.Fatalf("job with invalidate: summary %T, want *repoRunSummary", res.Summary)
	}
	if got := slices.Sorted(slices.Values(rs.Keys)); !slices.Equal(got, want) {
		t.Errorf("job with invalidate: keys %q, want %q", got, want)
	}
	var purged []string
	for _, p := range fake.Purges() {
		purged = append(purged, p.Files...)
	}
	slices.Sort(purged)
	if wantURLs := []string{"https://www.example.com/a.txt", "https://www.example.com/b/c.txt"}; !slices.Equal(purged, wantURLs) {
		t.Errorf("purged %q, want %q", purged, wantURLs)
	}

	res, err = r.Run(t.Context(), "plain", RunOptions{NoAlerts: true})
	if err != nil {
		t.Fatalf("job without invalidate: %v", err)
	}
	sum, ok := res.Summary.(*reposync.Summary)
	if !ok {
		t.Fatalf("job without invalidate: summary %T, want *reposync.Summary", res.Summary)
	}
	if sum.New != 2 || sum.Keys != nil {
		t.Errorf("job without invalidate: %d new, keys %q; want 2 new and no key list", sum.New, sum.Keys)
	}
}
