package reposync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ghsync/ghsync/internal/faultproxy"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

// rootFault is a fault proxy in front of the S3 test server that answers
// one chosen PUT of the manifest root with "acted502": the server stores
// the root, ghsync sees a 502 and the store client sends the conditional
// write again, which meets the root just written and fails its condition.
type rootFault struct {
	p    *faultproxy.Proxy
	puts atomic.Int64 // root PUTs seen in the current run
	at   atomic.Int64 // which root PUT of the run to fault (1-based); 0: none
	// onRetry, when set, runs in the proxy before the root PUT after the
	// faulted one is forwarded (the retry): another writer's moment.
	onRetry func()
}

func newRootFault(t *testing.T, endpoint string) *rootFault {
	t.Helper()
	f := &rootFault{}
	p, err := faultproxy.NewHTTP(endpoint, faultproxy.Config{Seed: 1, Rates: faultproxy.Rates{faultproxy.Acted: 1},
		ErrorType: "application/xml", ErrorBody: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>fault injected</Message></Error>`,
		Filter: func(r *http.Request) bool {
			if r.Method != http.MethodPut || !strings.HasSuffix(r.URL.Path, "/"+DefaultManifestKey) {
				return false
			}
			n := f.puts.Add(1)
			if n == f.at.Load()+1 && f.onRetry != nil {
				f.onRetry()
			}
			return n == f.at.Load()
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	f.p = p
	return f
}

// arm makes the run about to start meet the fault on its nth root PUT.
func (f *rootFault) arm(nth int) {
	f.puts.Store(0)
	f.at.Store(int64(nth))
}

// via is the S3 destination u (s3test.Bucket's URL) with the prefix "www/",
// through the proxy when f is not nil.
func (f *rootFault) via(t *testing.T, u string) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	q.Set("prefix", "www/")
	if f != nil {
		q.Set("endpoint", f.p.URL)
	}
	pu.RawQuery = q.Encode()
	return pu.String()
}

// TestLostRootAnswerIsNotAnotherRun: runs of one job whose write of the
// manifest root (the intent's or the final one, created with If-None-Match
// or replaced with If-Match; inline, sharded on the full path, sharded on
// the delta path) lands on the S3 server but whose answer is lost, so that
// the store's retry fails its condition on the run's own root. Each run
// must succeed with a manifest that records exactly the source (the ETag
// read back is the root's: the next write's If-Match holds), every
// faulted write's answer having been lost once. On the code before
// lostroot.go each stopped with ErrConcurrentRun.
func TestLostRootAnswerIsNotAnotherRun(t *testing.T) {
	endpoint := s3test.Endpoint(t)
	for _, layout := range []string{"inline", "sharded"} {
		t.Run(layout, func(t *testing.T) {
			files := manyFiles(40)
			r := newDeltaRepo(t, files)
			f := newRootFault(t, endpoint)
			direct := s3test.Bucket(t)
			url := f.via(t, direct)
			tree := treeState(files)
			steps := []struct {
				what  string
				nth   int  // the root PUT faulted: 1 the intent, 2 the final root
				delta bool // the run takes the delta path (sharded only)
				full  bool // force the full path (Verify)
			}{
				{"first run, intent created (If-None-Match)", 1, false, false},
				{"changed, final root replaced (If-Match)", 2, true, false},
				{"changed, intent replaced (If-Match)", 1, true, false},
				{"changed, full path, final root replaced", 2, false, true},
			}
			for i, st := range steps {
				if i > 0 {
					n := fmt.Sprintf("d0%d/f%04d.txt", i%4, i)
					tree = r.change(t, tree, map[string]string{n: "v" + fmt.Sprint(i+1) + " of " + n, fmt.Sprintf("new/%d.txt", i): "new"}, nil, nil)
				}
				f.arm(st.nth)
				s, err := r.tryRunWith(t, url, nil, func(o *Options) {
					if layout == "inline" {
						o.inlineLimit, o.shardAvg = 0, 0
					}
					o.Verify = st.full
				})
				if err != nil {
					t.Fatalf("%s: %v; want the run to succeed (its own root write landed)", st.what, err)
				}
				if got := f.p.Counts()[faultproxy.Acted]; got != int64(i+1) {
					t.Fatalf("%s: %d acted502 faults so far (%s), want %d: the test did not lose the root write's answer", st.what, got, f.p.Faults(), i+1)
				}
				if n := f.puts.Load(); n < int64(st.nth)+1 {
					t.Fatalf("%s: %d root PUTs; the faulted one was never sent again", st.what, n)
				}
				if layout == "sharded" && st.delta {
					mustDelta(t, s, st.what)
				}
				checkConverged(t, f.via(t, direct), tree)
				m := checkManifestHonest(t, f.via(t, direct))
				if wantSharded := layout == "sharded"; (m.Version >= ShardedManifestVersion) != wantSharded {
					t.Fatalf("%s: manifest version %d; the case is %s", st.what, m.Version, layout)
				}
			}
			// The ETags the lost answers were replaced by are the roots':
			// a clean run is up to date.
			f.arm(0)
			if s, err := r.tryRunWith(t, url, nil, func(o *Options) {
				if layout == "inline" {
					o.inlineLimit, o.shardAvg = 0, 0
				}
			}); err != nil || !s.UpToDate {
				t.Fatalf("clean run: %v, %+v; want up to date", err, s)
			}
		})
	}
}

// TestLostRootAnswerThenAnotherWriter: the root write's answer is lost and,
// before the store's retry, another writer replaces the root with the very
// same bytes but as its own write. The retry fails its condition and the
// root in place is not this run's write: the run stops with
// ErrConcurrentRun, as for any concurrent run.
func TestLostRootAnswerThenAnotherWriter(t *testing.T) {
	endpoint := s3test.Endpoint(t)
	files := manyFiles(40)
	r := newDeltaRepo(t, files)
	f := newRootFault(t, endpoint)
	direct := s3test.Bucket(t)
	url := f.via(t, direct)
	other := openBucket(t, f.via(t, direct)) // not through the proxy
	var replaced atomic.Bool
	f.onRetry = func() {
		ctx := context.Background()
		data, _, err := other.Read(ctx, DefaultManifestKey)
		if err == nil {
			_, err = other.Put(ctx, DefaultManifestKey, bytes.NewReader(data), store.PutOptions{ContentType: "application/json", Size: int64(len(data))})
		}
		if err != nil {
			t.Errorf("the other writer: %v", err)
			return
		}
		replaced.Store(true)
	}
	f.arm(1)
	_, err := r.tryRunWith(t, url, nil, func(o *Options) { o.inlineLimit, o.shardAvg = 0, 0 })
	if !replaced.Load() {
		t.Fatalf("run: %v; the other writer never replaced the root (faults %s)", err, f.p.Faults())
	}
	if !errors.Is(err, ErrConcurrentRun) {
		t.Fatalf("run: %v; want ErrConcurrentRun (the root in place is another writer's)", err)
	}
	// Nothing was uploaded: the intent is the first write of the run.
	checkManifestHonest(t, f.via(t, direct))
}

// TestRootWriteRecognised: on mem:// and file:// (no network, no lost
// answers), a conditional root write sent twice — the second attempt
// failing its precondition on the first — is recognised as its own by its
// write id, with the stored root's ETag; a write with another id is
// ErrConcurrentRun.
func TestRootWriteRecognised(t *testing.T) {
	for _, u := range []string{"mem://" + strings.ReplaceAll(t.Name(), "/", "-") + "/", "file://" + t.TempDir() + "/"} {
		ctx := context.Background()
		b := openBucket(t, u)
		data := []byte(`{"version":1,"objects":[]}`)
		opts := store.PutOptions{ContentType: "application/json", Size: int64(len(data)), IfNoneMatch: true}
		id := markRootWrite(&opts)
		if _, err := b.Put(ctx, DefaultManifestKey, bytes.NewReader(data), opts); err != nil {
			t.Fatal(err)
		}
		_, err := b.Put(ctx, DefaultManifestKey, bytes.NewReader(data), opts) // the "retry"
		if !errors.Is(err, store.ErrPreconditionFailed) {
			t.Fatalf("%s: second attempt: %v, want a failed precondition", u, err)
		}
		st, serr := b.Stat(ctx, DefaultManifestKey)
		if serr != nil {
			t.Fatal(serr)
		}
		if etag, rerr := rootPreconditionFailed(ctx, b, DefaultManifestKey, id, err); rerr != nil || etag != st.ETag {
			t.Errorf("%s: own write: %q, %v; want the stored ETag %q", u, etag, rerr, st.ETag)
		}
		other := store.PutOptions{}
		if _, rerr := rootPreconditionFailed(ctx, b, DefaultManifestKey, markRootWrite(&other), err); !errors.Is(rerr, ErrConcurrentRun) {
			t.Errorf("%s: another write's id: %v; want ErrConcurrentRun", u, rerr)
		}
	}
}
