package webhooks_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/store"
	"github.com/ghsync/ghsync/internal/webhooks"
)

// archiveStore opens a private mem:// store for an archive, closed with the
// test.
func archiveStore(t *testing.T) *store.Bucket {
	t.Helper()
	b, err := store.Open(context.Background(), "mem://", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// readArchive returns delivery ids found in batch objects and the
// per-delivery keys, read through the store's own List and Read. Batches must
// be gzip files stored as application/gzip without Content-Encoding, and
// per-delivery objects application/json.
func readArchive(t *testing.T, bkt *store.Bucket) (lines map[string]int, perDelivery []string) {
	t.Helper()
	ctx := context.Background()
	lines = map[string]int{}
	partRE := regexp.MustCompile(`^raw/event=[a-z_]+/date=\d{4}-\d{2}-\d{2}/hour=\d{2}/\d{12}-\d{12}\.ndjson\.gz$`)
	var keys []string
	if err := bkt.List(ctx, func(o store.Object) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, key := range keys {
		obj, err := bkt.Stat(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(key, "raw/") {
			if obj.ContentType != "application/json" {
				t.Errorf("%s: content type %q, want application/json", key, obj.ContentType)
			}
			perDelivery = append(perDelivery, key)
			continue
		}
		if !partRE.MatchString(key) {
			t.Errorf("batch key %q does not match the partition layout", key)
		}
		if obj.ContentType != "application/gzip" || obj.ContentEncoding != "" {
			t.Errorf("%s: content type %q, encoding %q; want application/gzip and none (a .gz file, not a transfer encoding)",
				key, obj.ContentType, obj.ContentEncoding)
		}
		data, _, err := bkt.Read(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 1<<26)
		for sc.Scan() {
			var l struct {
				DeliveryID string          `json:"delivery_id"`
				Event      string          `json:"event"`
				Payload    json.RawMessage `json:"payload"`
			}
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("%s: bad line: %v", key, err)
			}
			if !strings.Contains(key, "event="+l.Event+"/") || len(l.Payload) == 0 {
				t.Errorf("%s: line %+v in wrong partition or without payload", key, l)
			}
			lines[l.DeliveryID]++
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	}
	return lines, perDelivery
}

func TestArchive(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		bkt := archiveStore(t)
		b := setup(t, d, func(c *webhooks.Config) {
			c.Archive = webhooks.ArchiveConfig{Bucket: bkt, BatchBytes: 1 << 30, BatchAge: time.Hour, PerDelivery: true}
		})
		b.svc.Start()
		for i := 0; i < 30; i++ {
			ev := []string{"issues", "workflow_job", "star"}[i%3]
			b.post(t, ev, fmt.Sprintf("a-%d", i), issuePayload("o/r", i, "opened", "open", "t\nwith newline", "2024-01-01T00:00:00Z"))
		}
		// Neither size nor age reached: nothing written yet.
		time.Sleep(100 * time.Millisecond)
		if lines, per := readArchive(t, bkt); len(lines)+len(per) != 0 {
			t.Fatalf("archive written before a flush was due: %d", len(lines)+len(per))
		}
		if err := b.svc.Close(ctx); err != nil { // shutdown flushes
			t.Fatal(err)
		}
		lines, per := readArchive(t, bkt)
		if len(lines) != 30 || len(per) != 30 {
			t.Fatalf("archived %d deliveries in batches, %d per-delivery objects; want 30 each", len(lines), len(per))
		}
		for id, n := range lines {
			if n != 1 {
				t.Errorf("%s archived %d times", id, n)
			}
		}
		if !slices.Contains(per, "issues/a-0.json") || !slices.Contains(per, "workflow_job/a-1.json") {
			t.Errorf("per-delivery keys %v lack EVENT/DELIVERY_ID.json", per)
		}
		// Every object went through the store's Put (counted in its Stats).
		objects := 0
		if err := bkt.List(ctx, func(store.Object) error { objects++; return nil }); err != nil {
			t.Fatal(err)
		}
		if puts := bkt.Stats().Requests[store.KindPut]; puts != objects || objects <= len(per) {
			t.Errorf("%d objects in the archive (%d per delivery), %d puts counted by the store", objects, len(per), puts)
		}
		if n := b.count(t, "SELECT COUNT(*) FROM deliveries WHERE archived_at IS NULL"); n != 0 {
			t.Fatalf("%d deliveries not marked archived", n)
		}
	})
}

func TestArchiveByAgeAndAfterOutage(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t)
	dead := archiveStore(t)
	dead.Close() // every write fails: the store is down
	b := setup(t, d, func(c *webhooks.Config) {
		c.Archive = webhooks.ArchiveConfig{Bucket: dead, BatchAge: 20 * time.Millisecond, Interval: 10 * time.Millisecond}
	})
	b.svc.Start()
	for i := 0; i < 5; i++ {
		if c := b.post(t, "star", fmt.Sprintf("o-%d", i), []byte(`{"action":"created"}`)); c != 202 {
			t.Fatalf("store outage affected receiving: %d", c)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if err := b.svc.Close(ctx); err == nil {
		t.Fatal("final flush to a dead bucket reported success")
	}
	if n := b.count(t, "SELECT COUNT(*) FROM deliveries WHERE archived_at IS NULL"); n != 5 {
		t.Fatalf("%d unarchived, want 5 kept for later", n)
	}
	// The store is back (next start): the age trigger flushes without shutdown.
	good := archiveStore(t)
	b2 := setup(t, d, func(c *webhooks.Config) {
		c.Archive = webhooks.ArchiveConfig{Bucket: good, BatchAge: 20 * time.Millisecond, Interval: 10 * time.Millisecond}
	})
	b2.svc.Start()
	deadline := time.Now().Add(10 * time.Second)
	for b2.count(t, "SELECT COUNT(*) FROM deliveries WHERE archived_at IS NULL") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("age-triggered flush never happened")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if lines, _ := readArchive(t, good); len(lines) != 5 {
		t.Fatalf("archived %d after outage, want 5", len(lines))
	}
}

func TestArchiveBySize(t *testing.T) {
	d := dbtest.SQLite(t)
	bkt := archiveStore(t)
	b := setup(t, d, func(c *webhooks.Config) {
		c.Archive = webhooks.ArchiveConfig{Bucket: bkt, BatchBytes: 500, BatchAge: time.Hour, Interval: 10 * time.Millisecond}
	})
	b.svc.Start()
	for i := 0; i < 10; i++ {
		b.post(t, "star", fmt.Sprintf("s-%d", i), []byte(fmt.Sprintf(`{"action":"created","pad":"%s"}`, strings.Repeat("x", 100))))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines, _ := readArchive(t, bkt)
		if len(lines) >= 8 { // at least the full 500-byte batches
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("size-triggered flush wrote %d", len(lines))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestArchiveStores archives to every scheme — mem://, file://, S3
// (VersityGW), GCS (fake-gcs-server), Azure (Azurite); the servers skip
// loudly when not configured — each under a prefix, and reads the archive
// back through the store.
func TestArchiveStores(t *testing.T) {
	for _, kind := range []string{"mem", "file", "s3", "gs", "azblob"} {
		t.Run(kind, func(t *testing.T) {
			d := dbtest.SQLite(t)
			bkt := openStore(t, kind)
			b := setup(t, d, func(c *webhooks.Config) {
				c.Archive = webhooks.ArchiveConfig{Bucket: bkt, BatchBytes: 1 << 30, BatchAge: time.Hour, PerDelivery: true}
			})
			b.svc.Start()
			for i := 0; i < 4; i++ {
				b.post(t, []string{"issues", "workflow_job"}[i%2], fmt.Sprintf("f-%d", i), issuePayload("o/r", i, "opened", "open", "t", "2024-01-01T00:00:00Z"))
			}
			if err := b.svc.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			lines, per := readArchive(t, bkt)
			if len(lines) != 4 || len(per) != 4 || !slices.Contains(per, "workflow_job/f-1.json") {
				t.Fatalf("archived %v in batches, per delivery %v; want 4 each", lines, per)
			}
		})
	}
}
