package inbox

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/ghsync/ghsync/internal/db/dbtest"
)

// TestDBIndexReadFollowsTheWatchArea: with the database ledger, 20,000
// complete rows of sets processed long ago and gone from the watch area
// add nothing to what a poll of a watch area of one set reads (measured
// as the bytes the poll allocates, over a few polls). Before, the poll
// index query returned every complete row of the job, every poll:
// ~200 bytes allocated per row.
func TestDBIndexReadFollowsTheWatchArea(t *testing.T) {
	const gone = 20000
	ctx := context.Background()
	e := newEnv(t)
	d := dbtest.SQLite(t)
	if err := Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	e.deps.Ledger = DBLedger{DB: d}
	e.upload("idox_eros.csv", "f.csv")
	if pr, err := e.poll(); err != nil || len(pr.Processed) != 1 {
		t.Fatalf("first poll: %+v, %v", pr, err)
	}
	measure := func() uint64 {
		t.Helper()
		const polls = 5
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for range polls {
			if pr, err := e.poll(); err != nil || pr.Unchanged != 1 {
				t.Fatalf("poll: %+v, %v", pr, err)
			}
		}
		runtime.ReadMemStats(&m1)
		return (m1.TotalAlloc - m0.TotalAlloc) / polls
	}
	base := measure()
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range gone {
		if _, err := tx.Exec(ctx, `INSERT INTO inbox_sets (job, set_prefix, fingerprint, passed, files, processed_at,
			complete, attempts, done_actions) VALUES (?, ?, ?, 1, 1, '2026-04-01T10:00:00.000000Z', 1, 1, '["callback"]')`,
			e.cfg.Name, fmt.Sprintf("G%08d/2026-05-07/2026-04-01T10:00:00Z/", i), fmt.Sprintf("%064d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	with := measure()
	t.Logf("bytes allocated per poll of one listed set: %d; with %d gone sets' rows: %d", base, gone, with)
	if with > base+512<<10 {
		t.Errorf("a poll of one listed set allocates %d bytes with %d rows of gone sets, %d without: it reads the history, not the watch area",
			with, gone, base)
	}
}
