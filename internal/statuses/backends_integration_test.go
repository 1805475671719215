//go:build integration

package statuses

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/aztest"
	"github.com/ghsync/ghsync/internal/gcstest"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

// Issue 8, must-be-true 3: a status-snapshot job runs three times against
// gs:// (fake-gcs-server), azblob:// (Azurite) and s3:// (the S3 test server) — cold (one snapshot
// written), no change (nothing written), one change (one snapshot written) —
// and two overlapping runs on each: exactly one writes the snapshot (the
// other, whose write fails its condition on an object with the very same
// bytes but written by the first run, says the object changed during the
// run: it is not its own write whose answer was lost).
func TestSnapshotRunsOnCloudEmulators(t *testing.T) {
	for _, be := range []struct {
		name string
		url  func(testing.TB) string
	}{{"gs", gcstest.Bucket}, {"azblob", aztest.Container}, {"s3", s3test.Bucket}} {
		t.Run(be.name, func(t *testing.T) {
			url := be.url(t) + "&prefix=status/"
			t.Run("ThreeRuns", func(t *testing.T) { snapshotThreeRuns(t, url) })
			t.Run("OverlappingRuns", func(t *testing.T) { snapshotOverlap(t, be.url(t)) })
		})
	}
}

// envAt is newEnv with the bucket at url.
func envAt(t *testing.T, url string) *env {
	t.Helper()
	e := newEnv(t)
	b, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	e.bucket = b
	return e
}

// runCounting runs one snapshot with a fresh Bucket on the same URL, so its
// put count is this run's.
func runCounting(t *testing.T, e *env, url string, mod func(*Options)) (*Summary, int, error) {
	t.Helper()
	b, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	o := e.opts("main")
	o.Bucket = b
	if mod != nil {
		mod(&o)
	}
	sum, err := Run(context.Background(), o)
	return sum, b.Stats().Requests[store.KindPut], err
}

func snapshotThreeRuns(t *testing.T, url string) {
	e := envAt(t, url)
	linear(e, "main", 20, 1, 3)
	start := time.Now()
	sum, puts, err := runCounting(t, e, url, nil)
	if err != nil || sum.BranchesWritten != 1 || puts != 1 {
		t.Fatalf("cold run: %v, %d puts, summary %+v; want 1 snapshot written", err, puts, sum)
	}
	raw, etag := e.read(t, Key("acme", "app", "main"))
	if len(raw) == 0 || etag == "" {
		t.Fatalf("snapshot not readable: %d bytes, ETag %q", len(raw), etag)
	}
	sum, puts, err = runCounting(t, e, url, nil)
	if err != nil || sum.BranchesUnchanged != 1 || puts != 0 {
		t.Fatalf("unchanged run: %v, %d puts, summary %+v; want nothing written", err, puts, sum)
	}
	linear(e, "main", 1, 1, 3)
	sum, puts, err = runCounting(t, e, url, nil)
	if err != nil || sum.BranchesWritten != 1 || puts != 1 {
		t.Fatalf("run after one new commit: %v, %d puts, summary %+v; want 1 snapshot written", err, puts, sum)
	}
	if _, etag2 := e.read(t, Key("acme", "app", "main")); etag2 == etag {
		t.Fatalf("snapshot ETag unchanged after a rewrite: %s", etag)
	}
	t.Logf("three snapshot runs in %v", time.Since(start))
}

// lostRace reports a run whose snapshot write failed its precondition.
func lostRace(sum *Summary, err error) bool {
	if err != nil && errors.Is(err, store.ErrPreconditionFailed) {
		return true
	}
	return sum != nil && sum.BranchesFailed == 1 && len(sum.Branches) == 1 &&
		strings.Contains(sum.Branches[0].Error, "changed by someone else during the run")
}

// gate holds each run's first GitHub request until both runs have made
// theirs: by then both have read the stored snapshot's ETag.
type gate struct {
	base http.RoundTripper
	wg   *sync.WaitGroup
	once *sync.Once
}

func (g gate) RoundTrip(r *http.Request) (*http.Response, error) {
	g.once.Do(func() {
		g.wg.Done()
		done := make(chan struct{})
		go func() { g.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
		}
	})
	return g.base.RoundTrip(r)
}

func snapshotOverlap(t *testing.T, url string) {
	e := envAt(t, url)
	linear(e, "main", 10, 1, 2)
	for round := range 2 { // round 0: both create; round 1: both replace
		if round == 1 {
			linear(e, "main", 1, 1, 2)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		type result struct {
			sum  *Summary
			puts int
			err  error
		}
		res := make([]result, 2)
		var runs sync.WaitGroup
		for i := range 2 {
			runs.Add(1)
			go func() {
				defer runs.Done()
				hc := *e.http
				base := e.http.Transport
				if base == nil {
					base = http.DefaultTransport
				}
				hc.Transport = gate{base: base, wg: &wg, once: &sync.Once{}}
				s, p, err := runCounting(t, e, url, func(o *Options) { o.HTTP = &hc })
				res[i] = result{s, p, err}
			}()
		}
		runs.Wait()
		written, lost := 0, 0
		for _, r := range res {
			switch {
			case r.err == nil && r.sum.BranchesWritten == 1:
				written++
			case lostRace(r.sum, r.err):
				lost++
			default:
				t.Fatalf("round %d: unexpected outcome %+v / %v", round, r.sum, r.err)
			}
		}
		if written != 1 || lost != 1 {
			t.Fatalf("round %d: %d runs wrote the snapshot and %d lost; want exactly one each (%+v)", round, written, lost, res)
		}
	}
}
