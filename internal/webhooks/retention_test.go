package webhooks_test

import (
	"context"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/webhooks"
)

// TestPrunePayloadsOnlyOnceArchived: a payload leaves SQL only once its
// delivery is processed and its archive write confirmed; with the archive
// down neither payloads nor old deliveries are deleted; past the retention
// archived deliveries go, and the API still lists what is kept.
func TestPrunePayloadsOnlyOnceArchived(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t)
	dead := archiveStore(t)
	dead.Close() // every archive write fails
	b := setup(t, d, func(c *webhooks.Config) {
		c.Archive = webhooks.ArchiveConfig{Bucket: dead}
		c.Retention = time.Hour
	})
	for _, id := range []string{"p-1", "p-2", "p-3"} {
		if c := b.post(t, "issues", id, issuePayload("acme/app", 1, "opened", "open", id, "2024-01-01T00:00:00Z")); c != 202 {
			t.Fatal(c)
		}
	}
	b.process(t)
	if b.svc.Close(ctx) == nil {
		t.Fatal("archive flush to a dead bucket succeeded")
	}
	// Received long ago, processed, but never archived: all kept.
	if _, err := d.Exec(ctx, "UPDATE deliveries SET received_at = ?", db.FormatTime(time.Now().Add(-48*time.Hour))); err != nil {
		t.Fatal(err)
	}
	st, err := b.svc.Prune(ctx)
	if err != nil || st.Payloads != 0 || st.Deliveries != 0 {
		t.Fatalf("prune with the archive down: %+v, %v; want nothing deleted", st, err)
	}
	if n := b.count(t, "SELECT COUNT(*) FROM delivery_payloads"); n != 3 {
		t.Fatalf("payloads = %d, want 3 (not archived)", n)
	}
	// The archive is back: everything is archived, then pruned.
	good := archiveStore(t)
	b2 := setup(t, d, func(c *webhooks.Config) {
		c.Archive = webhooks.ArchiveConfig{Bucket: good}
		c.Retention = 72 * time.Hour
	})
	if err := b2.svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if lines, _ := readArchive(t, good); len(lines) != 3 {
		t.Fatalf("archived %d, want 3", len(lines))
	}
	st, err = b2.svc.Prune(ctx)
	if err != nil || st.Payloads != 3 || st.Deliveries != 0 {
		t.Fatalf("prune after archiving: %+v, %v; want 3 payloads, no delivery (within 72h)", st, err)
	}
	page, err := webhooks.QueryDeliveries(ctx, d, webhooks.DeliveryQuery{})
	if err != nil || len(page.Deliveries) != 3 || page.Deliveries[0].ArchivedAt == "" {
		t.Fatalf("deliveries listed after their payloads were pruned: %+v, %v", page, err)
	}
	b3 := setup(t, d, func(c *webhooks.Config) { c.Archive = webhooks.ArchiveConfig{Bucket: good}; c.Retention = time.Hour })
	st, err = b3.svc.Prune(ctx)
	if err != nil || st.Deliveries != 3 || b3.count(t, "SELECT COUNT(*) FROM deliveries") != 0 {
		t.Fatalf("prune past the retention: %+v, %v", st, err)
	}
}

// TestPrunedGUIDRedeliveredKeepsNewerState: once a delivery is pruned its
// GUID can be stored again (a manual redelivery); the projection ordering
// guard keeps the newer state a later delivery wrote.
func TestPrunedGUIDRedeliveredKeepsNewerState(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		b := setup(t, d, func(c *webhooks.Config) { c.Retention = time.Hour })
		old := issuePayload("acme/app", 7, "opened", "open", "first", "2024-01-01T00:00:00Z")
		if c := b.post(t, "issues", "g-old", old); c != 202 {
			t.Fatal(c)
		}
		if c := b.post(t, "issues", "g-new", issuePayload("acme/app", 7, "closed", "closed", "first", "2024-01-02T00:00:00Z")); c != 202 {
			t.Fatal(c)
		}
		b.process(t)
		if _, err := d.Exec(ctx, "UPDATE deliveries SET received_at = ?", db.FormatTime(time.Now().Add(-2*time.Hour))); err != nil {
			t.Fatal(err)
		}
		if st, err := b.svc.Prune(ctx); err != nil || st.Deliveries != 2 {
			t.Fatalf("prune: %+v, %v", st, err)
		}
		if c := b.post(t, "issues", "g-old", old); c != 202 {
			t.Fatal(c)
		}
		b.process(t)
		if n := b.count(t, "SELECT COUNT(*) FROM deliveries WHERE delivery_id = 'g-old' AND processed_at IS NOT NULL"); n != 1 {
			t.Fatalf("re-sent pruned GUID stored/processed %d times, want 1", n)
		}
		var status string
		if err := d.QueryRow(ctx, "SELECT status FROM issues WHERE repo = 'acme/app'").Scan(&status); err != nil || status != "closed" {
			t.Fatalf("issue status after the old delivery came again: %q, %v; want closed (the newer state)", status, err)
		}
	})
}

// TestServicePrunesInTheBackground: a started Service prunes by itself:
// payloads of processed deliveries leave SQL once the archive has them.
func TestServicePrunesInTheBackground(t *testing.T) {
	d := dbtest.SQLite(t)
	bkt := archiveStore(t)
	b := setup(t, d, func(c *webhooks.Config) {
		c.Archive = webhooks.ArchiveConfig{Bucket: bkt, BatchAge: 10 * time.Millisecond, Interval: 10 * time.Millisecond}
		c.PruneInterval = 10 * time.Millisecond
	})
	b.svc.Start()
	for _, id := range []string{"bg-1", "bg-2"} {
		if c := b.post(t, "issues", id, issuePayload("acme/app", 1, "opened", "open", id, "2024-01-01T00:00:00Z")); c != 202 {
			t.Fatal(c)
		}
	}
	// Wait (bounded) for the background steps: processed, archived, pruned.
	pruned := func() float64 {
		return b.metric(t, "ghsync_webhook_pruned_total", map[string]string{"what": "payload"})
	}
	for deadline := time.Now().Add(30 * time.Second); b.count(t, "SELECT COUNT(*) FROM delivery_payloads") != 0 || pruned() != 2; {
		if time.Now().After(deadline) {
			t.Fatalf("pruned metric %v, payloads still in SQL: %d; processed %d, archived %d", pruned(), b.count(t, "SELECT COUNT(*) FROM delivery_payloads"),
				b.count(t, "SELECT COUNT(*) FROM deliveries WHERE processed_at IS NOT NULL"), b.count(t, "SELECT COUNT(*) FROM deliveries WHERE archived_at IS NOT NULL"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := b.count(t, "SELECT COUNT(*) FROM deliveries WHERE processed_at IS NOT NULL AND archived_at IS NOT NULL"); n != 2 {
		t.Fatalf("pruned payloads of %d processed, archived deliveries; want 2", n)
	}
}
