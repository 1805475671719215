//go:build integration

package e2e

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

// faultProxy forwards to the S3 server and fails a share of requests with
// 500/503 or a dropped connection.
type faultProxy struct {
	srv      *httptest.Server
	injected atomic.Int64
	mu       sync.Mutex
	rng      *rand.Rand
	rate     float64
}

func newFaultProxy(t *testing.T, target string, rate float64) *faultProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{rng: rand.New(rand.NewPCG(7, 8)), rate: rate}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		roll, kind := p.rng.Float64(), p.rng.IntN(3)
		p.mu.Unlock()
		if roll < p.rate {
			p.injected.Add(1)
			switch kind {
			case 0:
				http.Error(w, "<Error><Code>InternalError</Code></Error>", 500)
			case 1:
				w.Header().Set("Retry-After", "0")
				http.Error(w, "<Error><Code>SlowDown</Code></Error>", 503)
			default:
				if hj, ok := w.(http.Hijacker); ok {
					if c, _, err := hj.Hijack(); err == nil {
						c.Close() // connection reset mid-request
						return
					}
				}
				http.Error(w, "reset", 502)
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// Faulty network: with 10% of store requests failing, every run either
// completes or fails cleanly, and a run without faults converges.
func TestFaultyStoreConverges(t *testing.T) {
	direct := s3test.Bucket(t)
	endpoint := s3test.Endpoint(t)
	proxy := newFaultProxy(t, endpoint, 0.10)
	viaProxy := strings.Replace(direct, url.QueryEscape(endpoint), url.QueryEscape(proxy.srv.URL), 1)
	if viaProxy == direct {
		viaProxy = strings.Replace(direct, endpoint, proxy.srv.URL, 1)
	}
	if viaProxy == direct {
		t.Fatalf("cannot point %s at the proxy", direct)
	}
	src := &sourceTree{dir: t.TempDir(), files: map[string][]byte{}, rng: rand.New(rand.NewPCG(9, 10))}
	src.add(300)
	ok, failed := 0, 0
	for i := 0; i < 6; i++ {
		src.mutate()
		r := ghsync(t, map[string]string{}, "sync", "dir:"+src.dir, viaProxy, "--max-delete", "100%")
		switch r.code {
		case 0:
			ok++
		case 1:
			failed++
			if !strings.Contains(r.stderr, "ghsync: ") {
				t.Fatalf("failure without a clear message: %s", r.stderr)
			}
		default:
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	}
	if r := ghsync(t, map[string]string{}, "sync", "dir:"+src.dir, direct, "--max-delete", "100%"); r.code != 0 {
		t.Fatalf("clean run failed: %s", r.stderr)
	}
	b, err := store.Open(context.Background(), direct, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	checkPrefix(t, b, src, ".ghsync/manifest.json") // no foreign object here: the manifest stands in
	t.Logf("%d faults injected; %d faulty runs completed, %d failed cleanly; the clean run converged", proxy.injected.Load(), ok, failed)
	if proxy.injected.Load() == 0 {
		t.Fatal("no fault was injected; the test proved nothing")
	}
}
