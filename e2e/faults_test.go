//go:build integration

package e2e

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/faultproxy"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

// Faulty network: with 10% of store requests failing, every run either
// completes or fails cleanly, and a run without faults converges.
func TestFaultyStoreConverges(t *testing.T) {
	direct := s3test.Bucket(t)
	endpoint := s3test.Endpoint(t)
	proxy := startProxy(t, endpoint, faultproxy.Config{Seed: 7, ErrorBody: s3ErrorBody, ErrorType: "application/xml",
		RetryAfter: "0", Rates: faultproxy.Rates{faultproxy.ServerError: .07, faultproxy.Reset: .03}})
	viaProxy := s3Via(t, direct, proxy.URL)
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
	t.Logf("%d faults injected; %d faulty runs completed, %d failed cleanly; the clean run converged", proxy.Injected(), ok, failed)
	if proxy.Injected() == 0 {
		t.Fatal("no fault was injected; the test proved nothing")
	}
}
