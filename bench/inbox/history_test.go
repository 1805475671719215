// Package inboxbench measures what an inbox poll costs as the history of
// processed sets grows (issue 20): N sets already processed and recorded,
// one new set uploaded, one poll. Run through history.sh, or:
//
//	GHSYNC_BENCH_SETS=10000 go test -run TestHistoryCost -v ./bench/inbox/
//
// It uses only the package's public API, so the same file measures an
// older checkout (history.sh does: before and after).
package inboxbench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/inbox"
	"github.com/ghsync/ghsync/internal/store"
)

const job = "bench"

// csv is a file that passes the default checks (at least 1 KB, 3 columns).
var csv = "station,address,xordinate,yordinate\n" + strings.Repeat("Hall,\"1 Main Road\",400000,200000\n", 40)

// TestHistoryCost: GHSYNC_BENCH_SETS processed sets (default 1,000), one
// new set, one poll, with the store ledger (GHSYNC_BENCH_LEDGER=store, the
// default: the Lambda's) or the database ledger (sqlite). With
// GHSYNC_BENCH_WATCH=cleaned the processed sets' files are deleted from the
// watch area after they were processed (a lifecycle rule): their records
// stay, the watch area holds only the new sets.
func TestHistoryCost(t *testing.T) {
	n := 1000
	if v := os.Getenv("GHSYNC_BENCH_SETS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	kind := os.Getenv("GHSYNC_BENCH_LEDGER")
	if kind == "" {
		kind = "store"
	}
	ctx := context.Background()
	open := func(u string) *store.Bucket {
		b, err := store.Open(ctx, u, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
	watch, lb := open("mem://bench-watch"), open("mem://bench-ledger")
	cfg := &inbox.Config{Name: job, Watch: "mem://bench-watch"}
	var ledger inbox.Ledger
	switch kind {
	case "store":
		ledger = inbox.StoreLedger{Bucket: lb}
	case "sqlite":
		d, err := db.Open(ctx, "sqlite://"+t.TempDir()+"/ghsync.db", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		if err := inbox.Migrate(ctx, d); err != nil {
			t.Fatal(err)
		}
		ledger = inbox.DBLedger{DB: d}
	default:
		t.Fatalf("GHSYNC_BENCH_LEDGER=%s: want store or sqlite", kind)
	}
	for i := range n {
		prefix := fmt.Sprintf("E%08d/2026-05-07/2026-04-01T10:00:00Z/", i)
		o, err := watch.Put(ctx, prefix+"stations.csv", strings.NewReader(csv), store.PutOptions{ContentType: "text/csv"})
		if err != nil {
			t.Fatal(err)
		}
		rec := inbox.LedgerRecord{Fingerprint: inbox.Fingerprint([]inbox.FileReport{{Key: o.Key, ETag: o.ETag}}),
			Passed: true, Files: 1, Complete: true, Attempts: 1, Done: []string{"callback"}, At: time.Now()}
		if err := ledger.Put(ctx, job, prefix, rec, nil); err != nil {
			t.Fatal(err)
		}
	}
	deps := inbox.Deps{Ledger: ledger, OpenStore: func(context.Context, string) (*store.Bucket, error) {
		return store.Open(ctx, "mem://bench-watch", store.Options{})
	}}
	// The first poll builds the poll index (reads every record once).
	if pr, err := inbox.Poll(ctx, deps, cfg, inbox.RunOptions{}); err != nil || pr.Unchanged != n {
		t.Fatalf("first poll: %+v, %v", pr, err)
	}
	cleaned := os.Getenv("GHSYNC_BENCH_WATCH") == "cleaned"
	if cleaned {
		var keys []string
		if err := watch.List(ctx, func(o store.Object) error { keys = append(keys, o.Key); return nil }); err != nil {
			t.Fatal(err)
		}
		if err := watch.Delete(ctx, keys); err != nil {
			t.Fatal(err)
		}
		if _, err := inbox.Poll(ctx, deps, cfg, inbox.RunOptions{}); err != nil { // the index forgets them
			t.Fatal(err)
		}
	}
	for round := range 3 {
		prefix := fmt.Sprintf("N%08d/2026-05-07/2026-04-01T10:00:00Z/", round)
		if _, err := watch.Put(ctx, prefix+"stations.csv", strings.NewReader(csv), store.PutOptions{ContentType: "text/csv"}); err != nil {
			t.Fatal(err)
		}
		before := lb.Stats()
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		start := time.Now()
		pr, err := inbox.Poll(ctx, deps, cfg, inbox.RunOptions{})
		wall := time.Since(start)
		runtime.ReadMemStats(&m1)
		listed := n
		if cleaned {
			listed = 0
		}
		if err != nil || len(pr.Processed) != 1 || pr.Unchanged != listed+round {
			t.Fatalf("poll with one new set: %d processed, %d unchanged, %v", len(pr.Processed), pr.Unchanged, err)
		}
		after := lb.Stats()
		req := map[string]int{}
		for k, v := range after.Requests {
			if d := v - before.Requests[k]; d != 0 {
				req[k] = d
			}
		}
		t.Logf("RESULT ledger=%s sets=%d watch=%s round=%d wall_ms=%.1f ledger_requests=%v ledger_bytes_written=%d index_bytes=%d alloc_during_poll_MB=%.1f heap_after_MB=%.1f",
			kind, n, map[bool]string{false: "kept", true: "cleaned"}[cleaned], round, float64(wall.Microseconds())/1000, req, after.BytesUploaded-before.BytesUploaded,
			indexBytes(t, lb), float64(m1.TotalAlloc-m0.TotalAlloc)/1e6, float64(m1.HeapAlloc)/1e6)
	}
}

// indexBytes is the size of the store ledger's poll index objects: what a
// poll reads of the ledger besides the records of new sets.
func indexBytes(t *testing.T, lb *store.Bucket) int64 {
	var n int64
	err := lb.List(context.Background(), func(o store.Object) error {
		if strings.HasPrefix(o.Key, ".ghsync/inbox/"+job+"/index") {
			n += o.Size
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
