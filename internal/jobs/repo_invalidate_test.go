package jobs

import (
	"slices"
	"strings"
	"testing"
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
