//go:build integration

package inbox

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

// TestS3WatchAndFinal runs the pass and redelivery paths on real S3
// buckets (VersityGW): ETags from the listing, streamed copies, the
// conditional report.json write and a StoreLedger in the watch bucket.
func TestS3WatchAndFinal(t *testing.T) {
	e := newEnv(t)
	e.cfg.Watch = s3test.Bucket(t)
	e.cfg.Final = s3test.Bucket(t)
	ctx := context.Background()
	watch, err := store.Open(ctx, e.cfg.Watch, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	final, err := store.Open(ctx, e.cfg.Final, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer final.Close()
	e.deps.Ledger = StoreLedger{Bucket: watch}
	for f, as := range map[string]string{"dc_districts.csv": "districts.csv", "dc_stations.csv": "stations.csv"} {
		b, _ := os.ReadFile(filepath.Join("testdata", "files", f))
		if _, err := watch.Put(ctx, setPrefix+as, bytes.NewReader(b), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	bucket := s3BucketName(t, e.cfg.Watch)
	ev := []EventObject{{Bucket: bucket, Key: setPrefix + "districts.csv"}, {Bucket: bucket, Key: setPrefix + "stations.csv"}}
	for i := 0; i < 2; i++ {
		er, err := ProcessEvent(ctx, e.deps, e.cfg, ev, RunOptions{})
		if err != nil || len(er.Results) != 1 {
			t.Fatalf("delivery %d: %+v %v", i+1, er, err)
		}
		if er.Results[0].Skipped != (i == 1) || (i == 0 && !er.Results[0].Passed) {
			t.Fatalf("delivery %d: %+v", i+1, er.Results[0])
		}
	}
	var keys []string
	final.List(ctx, func(o store.Object) error { keys = append(keys, o.Key); return nil })
	want := []string{setPrefix + "districts.csv", setPrefix + "report.json", setPrefix + "stations.csv"}
	if !slices.Equal(keys, want) {
		t.Errorf("final = %q; want %q", keys, want)
	}
	golden(t, "dc_pair.report.json", e.finalReport2(final))
	if n := len(e.cb.Requests()); n != 1 {
		t.Errorf("callbacks = %d; want 1", n)
	}
}

func (e *env) finalReport2(final *store.Bucket) []byte {
	e.t.Helper()
	b, _, err := final.Read(context.Background(), setPrefix+"report.json")
	if err != nil {
		e.t.Fatal(err)
	}
	return []byte(e.normalize(string(b)))
}

func s3BucketName(t *testing.T, u string) string {
	t.Helper()
	rest := u[len("s3://"):]
	for i, c := range rest {
		if c == '/' || c == '?' {
			return rest[:i]
		}
	}
	return rest
}

// TestS3RedeliveredEventRetriesFailedCallback is the Lambda's case: the
// callback fails through the first delivery (the invocation fails, so the
// event is delivered again); the redelivery calls back once more and opens
// no second issue; a third delivery finds the set complete. The ledger is a
// StoreLedger on real S3.
func TestS3RedeliveredEventRetriesFailedCallback(t *testing.T) {
	e := newEnv(t)
	e.cfg.Watch = s3test.Bucket(t)
	e.cfg.Final = s3test.Bucket(t)
	ctx := context.Background()
	final, err := store.Open(ctx, e.cfg.Final, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer final.Close()
	watch, err := store.Open(ctx, e.cfg.Watch, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	e.deps.Ledger = StoreLedger{Bucket: final}
	b, _ := os.ReadFile(filepath.Join("testdata", "files", "idox_eros.csv"))
	if _, err := watch.Put(ctx, setPrefix+"idox.csv", bytes.NewReader(b), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	e.cfg.Callback.Attempts = 2
	e.cb.FailFirst(2, 502)
	ev := []EventObject{{Bucket: s3BucketName(t, e.cfg.Watch), Key: setPrefix + "idox.csv"}}
	for i, want := range []struct {
		fails, skipped bool
		callbacks      int
	}{{true, false, 2}, {false, false, 3}, {false, true, 3}} {
		er, err := ProcessEvent(ctx, e.deps, e.cfg, ev, RunOptions{})
		if (err != nil) != want.fails || er == nil || len(er.Results) != 1 || er.Results[0].Skipped != want.skipped {
			t.Fatalf("delivery %d: %+v, %v; want error %v, skipped %v", i+1, er, err, want.fails, want.skipped)
		}
		if n := len(e.cb.Requests()); n != want.callbacks {
			t.Errorf("delivery %d: %d callbacks; want %d", i+1, n, want.callbacks)
		}
	}
	if issues := e.gh.Issues("DemocracyClub", "UK-Polling-Stations"); len(issues) != 1 || len(issues[0].Comments) != 0 {
		t.Errorf("issues = %+v; want one, not commented", issues)
	}
}

// TestPollCostOnS3: the poll cost measure on real S3 (VersityGW), watch and
// ledger buckets, with 2,000 processed sets (the bound does not depend on
// the history; TestPollCostFollowsWhatIsNew runs 10,000 in memory).
func TestPollCostOnS3(t *testing.T) {
	e := newEnv(t)
	e.cfg.Watch = s3test.Bucket(t)
	ctx := context.Background()
	watch, err := store.Open(ctx, e.cfg.Watch, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	e.watch = watch
	lb, err := store.Open(ctx, s3test.Bucket(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	// S3 returns ETags with writes and reads: 2 gets, 3 puts.
	pollCostStore(t, e, lb, 2000, 5)
}
