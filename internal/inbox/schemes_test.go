package inbox

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ghsync/ghsync/internal/store"
	"github.com/ghsync/ghsync/internal/storetest"
)

// TestAwkwardSetOnEveryScheme: an upload set named "results #2/" whose
// files are "50% done.csv" and "stations + #1.csv" is read, checked, copied
// to the final store and reported on every scheme (mem, file, S3 on
// VersityGW, GCS on fake-gcs-server, Azure on Azurite), with the ledger in
// the watch store: every read and copy finds each file under exactly the
// name it was listed with.
func TestAwkwardSetOnEveryScheme(t *testing.T) {
	const set = "results #2/"
	files := map[string]string{"dc_districts.csv": "50% done.csv", "dc_stations.csv": "stations + #1.csv"}
	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t)
			e.cfg.KeyPattern = "{group}/{file}"
			e.cfg.Enrich = nil
			e.cfg.GitHub.Title = "Import {group}"
			e.cfg.Watch = be.URL(t, "")
			e.cfg.Final = be.URL(t, "")
			ctx := context.Background()
			watch := storetest.Open(t, e.cfg.Watch, store.Options{})
			final := storetest.Open(t, e.cfg.Final, store.Options{})
			e.deps.Ledger = StoreLedger{Bucket: watch}
			for f, as := range files {
				b, err := os.ReadFile(filepath.Join("testdata", "files", f))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := watch.Put(ctx, set+as, bytes.NewReader(b), store.PutOptions{ContentType: "text/csv"}); err != nil {
					t.Fatal(err)
				}
			}
			res, err := ProcessSet(ctx, e.deps, e.cfg, set+"50% done.csv", RunOptions{})
			if err != nil || !res.Passed {
				t.Fatalf("ProcessSet: %+v, %v", res, err)
			}
			var keys []string
			if err := final.List(ctx, func(o store.Object) error { keys = append(keys, o.Key); return nil }); err != nil {
				t.Fatal(err)
			}
			want := []string{set + "50% done.csv", set + "report.json", set + "stations + #1.csv"}
			if !slices.Equal(keys, want) {
				t.Errorf("final store holds %q; want %q", keys, want)
			}
			for f, as := range files {
				src, _ := os.ReadFile(filepath.Join("testdata", "files", f))
				got, _, err := final.Read(ctx, set+as)
				if err != nil || !bytes.Equal(got, src) {
					t.Errorf("final %q: %d bytes, %v; want the %d uploaded bytes", set+as, len(got), err, len(src))
				}
			}
			// A second delivery finds the set recorded in the ledger.
			res, err = ProcessSet(ctx, e.deps, e.cfg, set+"stations + #1.csv", RunOptions{SkipUnchanged: true})
			if err != nil || !res.Skipped {
				t.Errorf("second run: %+v, %v; want skipped (recorded in the ledger)", res, err)
			}
		})
	}
}
