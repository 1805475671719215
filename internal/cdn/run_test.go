package cdn

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/store"
	"github.com/ghsync/ghsync/internal/testkit/cloudflaretest"
	"github.com/ghsync/ghsync/internal/testkit/mototest"
)

// backend is a CDN under test: its target (working, or failing every
// call), the calls it received as CDN paths, and its per-call limit.
type backend struct {
	target  func(failing bool) Target
	calls   func() [][]string
	perCall int
}

const siteBase = "https://www.example.com"

func cloudflareBackend(t *testing.T) backend {
	fake := cloudflaretest.New(t, "cf-token")
	tgt := NewCloudflare("023e105f4ecef8ad9ca31a8372d0c353", fake.URL, siteBase, "cf-token", nil)
	return backend{
		target: func(failing bool) Target {
			if failing {
				fake.Fail(1000)
			} else {
				fake.Fail(0)
			}
			return tgt
		},
		calls: func() [][]string {
			var out [][]string
			for _, p := range fake.Purges() {
				var paths []string
				for _, f := range p.Files {
					paths = append(paths, strings.TrimPrefix(f, siteBase))
				}
				for _, pr := range p.Prefixes {
					paths = append(paths, strings.TrimPrefix(pr, "www.example.com")+"*")
				}
				out = append(out, paths)
			}
			return out
		},
		perCall: cloudflaretest.MaxPerCall,
	}
}

func cloudFrontBackend(t *testing.T) backend {
	endpoint := mototest.Start(t, "CloudFront invalidation is not tested")
	c := mototest.CloudFrontClient(endpoint)
	id := mototest.CreateDistribution(t, c)
	dead := deadEndpoint(t)
	return backend{
		target: func(failing bool) Target {
			ep := endpoint
			if failing {
				ep = dead
			}
			client, err := newCloudFrontClient(context.Background(), url.Values{"endpoint": {ep}})
			if err != nil {
				t.Fatal(err)
			}
			return NewCloudFront(id, client)
		},
		calls:   func() [][]string { return mototest.Invalidations(t, c, id) },
		perCall: cloudFrontMaxPaths,
	}
}

// deadEndpoint is a loopback URL where nothing listens.
func deadEndpoint(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func testBucket(t *testing.T) *store.Bucket {
	b, err := store.Open(context.Background(), "file://"+t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// Must-be-true 1 of issue 19, on both CDNs: one changed file → exactly one
// call with that path; no change → no call; 3,000 changed files → calls
// within the API's limit, or the wildcard fallback; a failed invalidation is
// owed, retried by the next run and not repeated after it succeeds.
func TestInvalidateExactlyTheChangedPaths(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	for name, mk := range map[string]func(*testing.T) backend{"cloudfront": cloudFrontBackend, "cloudflare": cloudflareBackend} {
		t.Run(name, func(t *testing.T) {
			be := mk(t)
			b := testBucket(t)
			ctx := context.Background()
			run := func(keys []string, above int, failing bool) (*Report, error) {
				return Run(ctx, Request{Targets: []Target{be.target(failing)}, Keys: keys, Bucket: b, OwedKey: ".ghsync/" + OwedName,
					Settings: Settings{WildcardAbove: above}})
			}
			calls := 0
			newCalls := func() [][]string {
				all := be.calls()
				out := all[calls:]
				calls = len(all)
				return out
			}

			// One changed file: one call with exactly its path.
			if _, err := run([]string{"css/site.css"}, 0, false); err != nil {
				t.Fatal(err)
			}
			if got := newCalls(); len(got) != 1 || !slices.Equal(got[0], []string{"/css/site.css"}) {
				t.Fatalf("one changed file: calls %q, want one with /css/site.css", got)
			}

			// No change: no call, no report.
			if rep, err := run(nil, 0, false); err != nil || rep != nil {
				t.Fatalf("no change: report %+v, err %v", rep, err)
			}
			if got := newCalls(); len(got) != 0 {
				t.Fatalf("no change: %d calls", len(got))
			}

			// 3,000 changed files in 10 folders.
			var keys []string
			for i := range 3000 {
				keys = append(keys, fmt.Sprintf("d%d/f%04d.html", i%10, i))
			}
			if _, err := run(keys, 3000, false); err != nil {
				t.Fatal(err)
			}
			got := newCalls()
			var sent []string
			for _, c := range got {
				if len(c) > be.perCall {
					t.Fatalf("a call with %d paths, the limit is %d", len(c), be.perCall)
				}
				sent = append(sent, c...)
			}
			slices.Sort(sent)
			if want := Paths(keys, ""); !slices.Equal(sent, want) || len(got) != (3000+be.perCall-1)/be.perCall {
				t.Fatalf("3,000 files allowed exactly: %d calls, %d paths sent (want %d calls, exactly the 3,000 paths)", len(got), len(sent), (3000+be.perCall-1)/be.perCall)
			}
			if _, err := run(keys, 1000, false); err != nil { // above the configured count
				t.Fatal(err)
			}
			got = newCalls()
			var wild []string
			for i := range 10 {
				wild = append(wild, fmt.Sprintf("/d%d/*", i))
			}
			if len(got) != 1 || !slices.Equal(got[0], wild) {
				t.Fatalf("3,000 files above wildcard_above 1000: calls %q, want one call with %q", got, wild)
			}

			// A failed invalidation is owed and retried by the next run.
			rep, err := run([]string{"index.html"}, 0, true)
			if err == nil || !rep.Failed() || !slices.Equal(rep.Targets[0].Owed, []string{"/", "/index.html"}) {
				t.Fatalf("failing CDN: err %v, report %+v, want the run failed owing / and /index.html", err, rep)
			}
			if !strings.Contains(rep.Text(), "retried by the next run") {
				t.Fatalf("report text does not say what is retried:\n%s", rep.Text())
			}
			if got := newCalls(); len(got) != 0 {
				t.Fatalf("failing CDN recorded %d calls", len(got))
			}
			if _, err := run([]string{"about.html"}, 0, false); err != nil {
				t.Fatal(err)
			}
			if got := newCalls(); len(got) != 1 || !slices.Equal(got[0], []string{"/", "/about.html", "/index.html"}) {
				t.Fatalf("next run: calls %q, want the owed paths with its own", got)
			}
			if rep, err := run(nil, 0, false); err != nil || rep != nil {
				t.Fatalf("run after the retry: report %+v, err %v", rep, err)
			}
			if got := newCalls(); len(got) != 0 {
				t.Fatalf("owed paths repeated after they succeeded: %q", got)
			}
			if _, _, err := b.Read(ctx, ".ghsync/"+OwedName); err == nil {
				t.Fatal("owed record left behind after the retry succeeded")
			}
		})
	}
}

// The CloudFront client takes its endpoint and credentials from the SDK's
// standard settings, as ghsync's other AWS clients do: AWS_ENDPOINT_URL
// (the all-services form; AWS_ENDPOINT_URL_CLOUDFRONT is used by the e2e
// test) and the credential chain (here the environment).
func TestCloudFrontHonoursAWSEndpointURL(t *testing.T) {
	endpoint := mototest.Start(t, "CloudFront endpoint settings are not tested")
	c := mototest.CloudFrontClient(endpoint)
	id := mototest.CreateDistribution(t, c)
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	ctx := context.Background()
	targets := Open(ctx, []string{"cloudfront://" + id}, Settings{})
	rep, err := Run(ctx, Request{Targets: targets, Keys: []string{"a.css"}, Bucket: testBucket(t), OwedKey: ".ghsync/" + OwedName})
	if err != nil {
		t.Fatal(err)
	}
	got := mototest.Invalidations(t, c, id)
	if len(got) != 1 || !slices.Equal(got[0], []string{"/a.css"}) || len(rep.Targets[0].Requests) != 1 {
		t.Fatalf("invalidations %q, report %+v", got, rep)
	}
}

// A target that cannot be built (here Cloudflare without its token) fails
// the run saying why, and the paths are owed, not lost: a later run with
// the target fixed sends them.
func TestUnbuildableTargetOwesItsPaths(t *testing.T) {
	fake := cloudflaretest.New(t, "tok")
	url := "cloudflare://zone1?endpoint=" + fake.URL
	b := testBucket(t)
	ctx := context.Background()
	req := Request{Keys: []string{"a.css"}, Bucket: b, OwedKey: ".ghsync/" + OwedName,
		Targets: Open(ctx, []string{url}, Settings{BaseURL: siteBase})}
	rep, err := Run(ctx, req)
	if err == nil || !strings.Contains(err.Error(), "cdn.token") || !slices.Equal(rep.Targets[0].Owed, []string{"/a.css"}) {
		t.Fatalf("no token: err %v, report %+v; want a failure naming cdn.token with /a.css owed", err, rep)
	}
	s := Settings{BaseURL: siteBase, Token: "tok"}
	if _, err := Run(ctx, Request{Bucket: b, OwedKey: ".ghsync/" + OwedName, Settings: s, Targets: Open(ctx, []string{url}, s)}); err != nil {
		t.Fatal(err)
	}
	if p := fake.Purges(); len(p) != 1 || !slices.Equal(p[0].Files, []string{siteBase + "/a.css"}) {
		t.Fatalf("purges %+v, want the owed /a.css", p)
	}
}
