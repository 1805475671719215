package webhooks_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/webhooks"
)

// readArchive returns delivery ids found in batch objects and the per-delivery keys.
func readArchive(t *testing.T, bkt *blob.Bucket) (lines map[string]int, perDelivery []string) {
	t.Helper()
	ctx := context.Background()
	lines = map[string]int{}
	partRE := regexp.MustCompile(`^raw/event=[a-z_]+/date=\d{4}-\d{2}-\d{2}/hour=\d{2}/\d{12}-\d{12}\.ndjson\.gz$`)
	it := bkt.List(nil)
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(obj.Key, "raw/") {
			perDelivery = append(perDelivery, obj.Key)
			continue
		}
		if !partRE.MatchString(obj.Key) {
			t.Errorf("batch key %q does not match the partition layout", obj.Key)
		}
		r, err := bkt.NewReader(ctx, obj.Key, nil)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatalf("%s: %v", obj.Key, err)
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
				t.Fatalf("%s: bad line: %v", obj.Key, err)
			}
			if !strings.Contains(obj.Key, "event="+l.Event+"/") || len(l.Payload) == 0 {
				t.Errorf("%s: line %+v in wrong partition or without payload", obj.Key, l)
			}
			lines[l.DeliveryID]++
		}
		r.Close()
	}
	return lines, perDelivery
}

func TestArchive(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		bkt := memblob.OpenBucket(nil)
		defer bkt.Close()
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
		if n := b.count(t, "SELECT COUNT(*) FROM deliveries WHERE archived_at IS NULL"); n != 0 {
			t.Fatalf("%d deliveries not marked archived", n)
		}
	})
}

func TestArchiveByAgeAndAfterOutage(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t)
	dead := memblob.OpenBucket(nil)
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
	good := memblob.OpenBucket(nil)
	defer good.Close()
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
	bkt := memblob.OpenBucket(nil)
	defer bkt.Close()
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
