package webhooks_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/webhooks"
)

// growthEnv sets how many deliveries TestRetentionBoundsGrowth simulates
// (default 30,000; the figure is 1,000,000).
const growthEnv = "GHSYNC_GROWTH_DELIVERIES"

// TestRetentionBoundsGrowth: with a retention of one day, deliveries
// received evenly over 30 simulated days (bulk inserted, processed, and
// archived one hour after they arrive) leave at most two days of
// deliveries and about an hour of payloads in the tables after each daily
// prune. It logs rows and bytes before and after each prune: PostgreSQL's
// pg_total_relation_size of both tables (after a plain VACUUM, what
// autovacuum does on a server), SQLite's pages in use.
func TestRetentionBoundsGrowth(t *testing.T) {
	total := 30000
	if v := os.Getenv(growthEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 30 {
			t.Fatalf("%s=%q: want a number of deliveries >= 30", growthEnv, v)
		}
		total = n
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := webhooks.Migrate(ctx, d); err != nil {
			t.Fatal(err)
		}
		const days = 30
		perDay := total / days
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		payload := []byte(`{"action":"completed","workflow_job":{"id":1,"status":"completed","name":"` + strings.Repeat("x", 200) + `"},"repository":{"full_name":"acme/app"}}`)
		var id int64
		maxRows, maxPayloads := 0, 0
		var maxBytes int64
		for day := 0; day < days; day++ {
			dayStart := start.Add(time.Duration(day) * 24 * time.Hour)
			bulkDeliveries(t, d, &id, perDay, dayStart, payload)
			end := dayStart.Add(24 * time.Hour)
			// The archiver confirmed everything received until an hour ago.
			if _, err := d.Exec(ctx, "UPDATE deliveries SET archived_at = ? WHERE archived_at IS NULL AND received_at < ?",
				db.FormatTime(end), db.FormatTime(end.Add(-time.Hour))); err != nil {
				t.Fatal(err)
			}
			rowsBefore, payBefore, bytesBefore := tableFigures(t, d)
			var st webhooks.PruneStats
			for {
				s, err := webhooks.Prune(ctx, d, webhooks.PruneOptions{Retention: 24 * time.Hour, Archive: true, Batch: 1000,
					Now: func() time.Time { return end }})
				if err != nil {
					t.Fatal(err)
				}
				st.Payloads, st.Deliveries = st.Payloads+s.Payloads, st.Deliveries+s.Deliveries
				if !s.More {
					break
				}
			}
			if d.Dialect() == db.Postgres {
				for _, tbl := range []string{"deliveries", "delivery_payloads"} {
					if _, err := d.Exec(ctx, "VACUUM "+tbl); err != nil {
						t.Fatal(err)
					}
				}
			}
			rows, pays, bytes := tableFigures(t, d)
			maxRows, maxPayloads, maxBytes = max(maxRows, rows), max(maxPayloads, pays), max(maxBytes, bytes)
			if day == 0 || day == days-1 || day%7 == 0 {
				t.Logf("day %2d: before prune %d deliveries, %d payloads, %s; pruned %d payloads, %d deliveries; after %d deliveries, %d payloads, %s",
					day+1, rowsBefore, payBefore, mib(bytesBefore), st.Payloads, st.Deliveries, rows, pays, mib(bytes))
			}
			// Kept: yesterday's and today's deliveries; payloads of the last hour.
			if rows > 2*perDay {
				t.Fatalf("day %d: %d deliveries kept, want at most %d (two days)", day+1, rows, 2*perDay)
			}
			if pays > perDay/24+2 {
				t.Fatalf("day %d: %d payloads kept, want at most %d (the hour not yet archived)", day+1, pays, perDay/24+2)
			}
		}
		t.Logf("%s: %d deliveries over %d days; max after prune: %d deliveries, %d payloads, %s (%d inserted in all)",
			d.Dialect(), perDay*days, days, maxRows, maxPayloads, mib(maxBytes), id)
	})
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// bulkDeliveries inserts n processed deliveries received evenly over the
// day from dayStart, with their payloads, in multi-row statements.
func bulkDeliveries(t *testing.T, d *db.DB, id *int64, n int, dayStart time.Time, payload []byte) {
	t.Helper()
	ctx := context.Background()
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const chunk = 500
	step := 24 * time.Hour / time.Duration(n)
	for i := 0; i < n; i += chunk {
		m := min(chunk, n-i)
		var dq, pq strings.Builder
		dq.WriteString("INSERT INTO deliveries (id, delivery_id, event, received_at, payload_size, processed_at, attempts, next_attempt_at) VALUES ")
		pq.WriteString("INSERT INTO delivery_payloads (delivery_pk, headers, payload) VALUES ")
		var da, pa []any
		for k := 0; k < m; k++ {
			*id++
			at := db.FormatTime(dayStart.Add(time.Duration(i+k) * step))
			if k > 0 {
				dq.WriteString(", ")
				pq.WriteString(", ")
			}
			dq.WriteString("(?, ?, 'workflow_job', ?, ?, ?, 1, ?)")
			pq.WriteString("(?, '{}', ?)")
			da = append(da, *id, fmt.Sprintf("guid-%d", *id), at, len(payload), at, at)
			pa = append(pa, *id, payload)
		}
		if _, err := tx.Exec(ctx, dq.String(), da...); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, pq.String(), pa...); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// tableFigures returns the rows of deliveries and delivery_payloads and
// their size: pg_total_relation_size of both on PostgreSQL, the pages in
// use (page_count - freelist_count) on SQLite.
func tableFigures(t *testing.T, d *db.DB) (deliveries, payloads int, bytes int64) {
	t.Helper()
	ctx := context.Background()
	if err := d.QueryRow(ctx, "SELECT (SELECT COUNT(*) FROM deliveries), (SELECT COUNT(*) FROM delivery_payloads)").Scan(&deliveries, &payloads); err != nil {
		t.Fatal(err)
	}
	if d.Dialect() == db.Postgres {
		err := d.QueryRow(ctx, "SELECT pg_total_relation_size('deliveries') + pg_total_relation_size('delivery_payloads')").Scan(&bytes)
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	var pages, free, size int64
	for q, v := range map[string]*int64{"PRAGMA page_count": &pages, "PRAGMA freelist_count": &free, "PRAGMA page_size": &size} {
		if err := d.QueryRow(ctx, q).Scan(v); err != nil {
			t.Fatal(err)
		}
	}
	return deliveries, payloads, (pages - free) * size
}
