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
