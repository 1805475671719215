package apisync_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/apisync"
	"github.com/ghsync/ghsync/internal/apisync/apisynctest"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
)

// TestBenchAirtable measures the fifth figure: N Airtable records
// (default 100,000; GHSYNC_APISYNC_BENCH=N) from the fake on loopback, pacing
// off, into each database: the cold run's rows per second, and the steady-state
// run's time and rows written (counted by triggers; must be 0). Run with:
//
//	GHSYNC_APISYNC_BENCH=100000 GHSYNC_TEST_POSTGRES_URL=… GHSYNC_TEST_MYSQL_DSN=… \
//	  go test -run TestBenchAirtable -v -timeout 30m ./internal/apisync/
func TestBenchAirtable(t *testing.T) {
	env := os.Getenv("GHSYNC_APISYNC_BENCH")
	if env == "" {
		t.Skip("benchmark: set GHSYNC_APISYNC_BENCH=100000 to run it")
	}
	n, err := strconv.Atoi(env)
	if err != nil || n < 1 {
		t.Fatalf("GHSYNC_APISYNC_BENCH=%q: want a record count", env)
	}
	recs := genRecords(n)
	dbtest.EachDialect(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fake := apisynctest.NewAirtable(t, testToken)
		fake.LimitPerSecond = 0
		fake.SetRecords(testBase, "T", recs)
		deps, _, _ := testDeps(t, d)
		deps.Logger = nil
		cfg := apisync.AirtableConfig{Base: testBase, Table: "T", Token: testToken, Target: "bench", DeleteMissing: true, APIURL: fake.URL()}
		start := time.Now()
		sum, err := apisync.SyncAirtable(ctx, deps, cfg, apisync.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cold := time.Since(start)
		wantCounts(t, sum, "bench", counts{ins: n})
		writes := writeCounter(t, d, "bench")
		start = time.Now()
		sum, err = apisync.SyncAirtable(ctx, deps, cfg, apisync.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		steady := time.Since(start)
		wantCounts(t, sum, "bench", counts{unch: n})
		w := writes()
		if w != 0 {
			t.Errorf("steady state wrote %d rows", w)
		}
		line := fmt.Sprintf("BENCH %-8s records=%d pages=%d cold=%s (%.0f rows/s) steady=%s (%.0f records/s checked) rows_written=%d statements=%d",
			d.Dialect(), n, sum.Pages, cold.Round(time.Millisecond), float64(n)/cold.Seconds(),
			steady.Round(time.Millisecond), float64(n)/steady.Seconds(), w, sum.Statements)
		t.Log(line)
		fmt.Println(line)
	})
}
