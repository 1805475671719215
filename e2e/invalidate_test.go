package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/testkit/cloudflaretest"
	"github.com/ghsync/ghsync/internal/testkit/mototest"
)

// Issue 19 part 1 through the built binary: a repo job with invalidate:
// invalidates exactly the changed paths after a run; a failed invalidation
// exits 1 saying what is owed, the next run retries it, and a run after that
// calls nothing. CloudFront on moto (endpoint from the SDK's standard
// AWS_ENDPOINT_URL_CLOUDFRONT) and the Cloudflare fake.
func TestInvalidateThroughTheBinary(t *testing.T) {
	for _, cdn := range []string{"cloudfront", "cloudflare"} {
		t.Run(cdn, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "src")
			writeTree(t, src, map[string]string{"index.html": "<p>hi</p>", "css/site.css": "body{}", "docs/index.html": "docs"})
			env := map[string]string{"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_MAX_ATTEMPTS": "1", "CF_TOKEN": "tok"}
			var target string
			var calls func() [][]string
			var breakCDN, fixCDN func()
			switch cdn {
			case "cloudfront":
				endpoint := mototest.Start(t, "CloudFront invalidation through the binary is not tested")
				c := mototest.CloudFrontClient(endpoint)
				id := mototest.CreateDistribution(t, c)
				target = "cloudfront://" + id
				env["AWS_ENDPOINT_URL_CLOUDFRONT"] = endpoint
				calls = func() [][]string { return mototest.Invalidations(t, c, id) }
				breakCDN = func() { env["AWS_ENDPOINT_URL_CLOUDFRONT"] = deadURL(t) }
				fixCDN = func() { env["AWS_ENDPOINT_URL_CLOUDFRONT"] = endpoint }
			default:
				fake := cloudflaretest.New(t, "tok")
				target = "cloudflare://023e105f4ecef8ad9ca31a8372d0c353?endpoint=" + fake.URL
				calls = func() [][]string {
					var out [][]string
					for _, p := range fake.Purges() {
						var paths []string
						for _, f := range p.Files {
							paths = append(paths, strings.TrimPrefix(f, "https://www.example.com"))
						}
						out = append(out, paths)
					}
					return out
				}
				breakCDN = func() { fake.Fail(1000) }
				fixCDN = func() { fake.Fail(0) }
			}
			cfg := fmt.Sprintf(`jobs:
  - name: site
    kind: repo
    source: dir:%s
    dest: file://%s/out/
    invalidate: %s
    cdn:
      path_prefix: /site
      base_url: https://www.example.com
      token: ${CF_TOKEN}
`, src, dir, target)
			if err := os.WriteFile(filepath.Join(dir, "ghsync.yaml"), []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			seen := 0
			newCalls := func() [][]string {
				all := calls()
				out := all[seen:]
				seen = len(all)
				return out
			}
			run := func(args ...string) result { return exe(t, dir, env, append([]string{"run", "site"}, args...)...) }

			r := run("--dry-run")
			if r.code != 0 || !strings.Contains(r.stdout, "/site/docs/") || len(newCalls()) != 0 {
				t.Fatalf("dry run: exit %d, want 0 listing the paths and no call\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if r := run(); r.code != 0 {
				t.Fatalf("first run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			want := []string{"/site/", "/site/css/site.css", "/site/docs/", "/site/docs/index.html", "/site/index.html"}
			if got := newCalls(); len(got) != 1 || !slices.Equal(sorted(got[0]), want) {
				t.Fatalf("first run: calls %q, want one with %q", got, want)
			}

			// One changed file: exactly one call with its path.
			writeTree(t, src, map[string]string{"css/site.css": "body{margin:0}"})
			r = run("--json")
			if r.code != 0 {
				t.Fatalf("one-file run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if inv, _ := r.summary(t)["invalidation"].(map[string]any); inv == nil {
				t.Fatalf("--json summary has no invalidation:\n%s", r.stdout)
			}
			if got := newCalls(); len(got) != 1 || !slices.Equal(got[0], []string{"/site/css/site.css"}) {
				t.Fatalf("one-file change: calls %q, want one with /site/css/site.css", got)
			}

			// No change: no call.
			if r := run(); r.code != 0 || len(newCalls()) != 0 {
				t.Fatalf("no-change run: exit %d, calls made\n%s\n%s", r.code, r.stdout, r.stderr)
			}

			// The CDN fails: exit 1, the output says what is owed; the objects are synced.
			breakCDN()
			writeTree(t, src, map[string]string{"index.html": "<p>hello</p>"})
			r = run()
			if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "/site/index.html") || !strings.Contains(r.stdout+r.stderr, "next run") {
				t.Fatalf("failing CDN: exit %d, want 1 naming the owed paths\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if body, err := os.ReadFile(filepath.Join(dir, "out", "index.html")); err != nil || string(body) != "<p>hello</p>" {
				t.Fatalf("the object was not synced before the failed invalidation: %q %v", body, err)
			}
			t.Logf("failed run's output:\n%s%s", r.stdout, r.stderr)
			newCalls()
			fixCDN()
			if r := run(); r.code != 0 {
				t.Fatalf("retry run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if got := newCalls(); len(got) != 1 || !slices.Equal(sorted(got[0]), []string{"/site/", "/site/index.html"}) {
				t.Fatalf("retry run: calls %q, want the owed / and /index.html", got)
			}
			if r := run(); r.code != 0 || len(newCalls()) != 0 {
				t.Fatalf("run after the retry: exit %d or calls repeated\n%s\n%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// deadURL is a loopback URL where nothing listens.
func deadURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String()
}
