package inbox

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/store"
)

// storeCounter opens stores for a pipeline and adds up their requests.
type storeCounter struct {
	mu      sync.Mutex
	buckets []*store.Bucket
	extra   []*store.Bucket // opened by the test, counted too
}

func (c *storeCounter) open(ctx context.Context, u string) (*store.Bucket, error) {
	b, err := store.Open(ctx, u, store.Options{})
	if err == nil {
		c.mu.Lock()
		c.buckets = append(c.buckets, b)
		c.mu.Unlock()
	}
	return b, err
}

// total returns the requests by kind of every bucket so far.
func (c *storeCounter) total() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	sum := map[string]int{}
	for _, b := range append(append([]*store.Bucket{}, c.buckets...), c.extra...) {
		for k, n := range b.Stats().Requests {
			sum[k] += n
		}
	}
	return sum
}

func diff(after, before map[string]int) (map[string]int, int) {
	d, all := map[string]int{}, 0
	for k, n := range after {
		if n-before[k] != 0 {
			d[k] = n - before[k]
			all += n - before[k]
		}
	}
	return d, all
}

// countingLedger counts the per-set ledger calls (Get, Claim) of a Ledger
// that is also an Indexer.
type countingLedger struct {
	Ledger
	Indexer
	mu    sync.Mutex
	calls int
}

func (c *countingLedger) Get(ctx context.Context, job, prefix string) (LedgerRecord, bool, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.Ledger.Get(ctx, job, prefix)
}

func (c *countingLedger) Claim(ctx context.Context, job, prefix, fp string, cl Claim) (ClaimResult, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.Ledger.Claim(ctx, job, prefix, fp, cl)
}

func (c *countingLedger) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// seedProcessed puts n one-file sets in the watch store and records each
// complete in l, as if processed (returns the objects' count).
func seedProcessed(t *testing.T, e *env, l Ledger, n int) int {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		prefix := fmt.Sprintf("E%08d/2026-05-07/2026-04-01T10:00:00Z/", i)
		o, err := e.watch.Put(ctx, prefix+"f.csv", strings.NewReader("a,b,c\n1,2,3\n"), store.PutOptions{ContentType: "text/csv"})
		if err != nil {
			t.Fatal(err)
		}
		rec := LedgerRecord{Fingerprint: Fingerprint([]FileReport{{Key: prefix + "f.csv", ETag: o.ETag}}), Passed: true, Files: 1,
			Complete: true, Attempts: 1, Done: []string{ActionCallback}}
		if err := l.Put(ctx, e.cfg.Name, prefix, rec, nil); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// TestPollCostFollowsWhatIsNew: a poll over 10,000 processed sets and one
// new set reads the ledger for the new set only — one index read, the new
// set's claim and record, one index write — whatever the history; the
// listing costs one request per 1,000 objects. (Before the poll index, every
// poll read the record of each of the 10,000 sets.) With the store ledger
// (requests counted by the store) and the database ledger (ledger lookups
// counted).
func TestPollCostFollowsWhatIsNew(t *testing.T) {
	const history = 10000
	t.Run("store", func(t *testing.T) {
		e := newEnv(t)
		lb, err := store.Open(context.Background(), fmt.Sprintf("mem://inbox-ledger-%d", bucketSeq.Add(1)), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer lb.Close()
		// mem:// adds a HEAD to each put (for its ETag) and to each
		// conditional put (the condition): 2 gets, 3 puts, 6 heads.
		pollCostStore(t, e, lb, history, 11)
	})
	t.Run("sqlite", func(t *testing.T) {
		e := newEnv(t)
		d := dbtest.SQLite(t)
		if err := Migrate(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		cl := &countingLedger{Ledger: DBLedger{DB: d}, Indexer: DBLedger{DB: d}}
		e.deps.Ledger = cl
		seedProcessed(t, e, &MemLedger{}, history) // the objects
		tx, err := d.Begin(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		err = e.watch.List(context.Background(), func(o store.Object) error {
			prefix := strings.TrimSuffix(o.Key, "f.csv")
			_, err := tx.Exec(context.Background(), `INSERT INTO inbox_sets (job, set_prefix, fingerprint, passed, files, processed_at,
				complete, attempts, done_actions) VALUES (?, ?, ?, 1, 1, '2026-04-01T10:00:00.000000Z', 1, 1, '["callback"]')`,
				e.cfg.Name, prefix, Fingerprint([]FileReport{{Key: o.Key, ETag: o.ETag}}))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		e.upload("idox_eros.csv", "new.csv")
		pr, err := e.poll()
		if err != nil || pr.Unchanged != history || len(pr.Processed) != 1 {
			t.Fatalf("poll: %d unchanged, %d processed, %v", pr.Unchanged, len(pr.Processed), err)
		}
		if n := cl.count(); n > 1 {
			t.Errorf("%d per-set ledger lookups; want 1 (the new set's claim), not one per processed set", n)
		}
	})
}

// pollCostStore measures the store requests of polls over history processed
// sets in e's watch store with a StoreLedger in lb: the first poll (no index
// yet), a poll with one new set (at most maxLedger ledger requests, at most
// one listing request per 1,000 objects, and a bound on the rest that does
// not depend on history), and a poll with nothing new.
func pollCostStore(t *testing.T, e *env, lb *store.Bucket, history, maxLedger int) {
	t.Helper()
	e.deps.Ledger = StoreLedger{Bucket: lb}
	sc := &storeCounter{extra: []*store.Bucket{lb}}
	e.deps.OpenStore = sc.open
	objects := seedProcessed(t, e, e.deps.Ledger, history)

	before := lb.Stats().Requests
	pr, err := e.poll()
	if err != nil || pr.Unchanged != history || len(pr.Processed) != 0 {
		t.Fatalf("first poll: %d unchanged, %d processed, %v", pr.Unchanged, len(pr.Processed), err)
	}
	first, firstN := diff(lb.Stats().Requests, before)
	t.Logf("first poll after the upgrade (no index yet): %d ledger requests %v", firstN, first)

	e.upload("idox_eros.csv", "new.csv")
	objects++
	before, beforeLedger := sc.total(), lb.Stats().Requests
	pr, err = e.poll()
	if err != nil || pr.Unchanged != history || len(pr.Processed) != 1 {
		t.Fatalf("poll with one new set: %d unchanged, %d processed, %v", pr.Unchanged, len(pr.Processed), err)
	}
	all, n := diff(sc.total(), before)
	ledger, ledgerN := diff(lb.Stats().Requests, beforeLedger)
	pages := (objects + 999) / 1000
	t.Logf("poll over %d processed sets + 1 new: %d store requests %v (listing: %d pages), of which ledger %d %v",
		history, n, all, all[store.KindList], ledgerN, ledger)
	// Index read, claim (read + conditional write), record, index write;
	// and one read per index segment.
	segs := indexReads(t, lb, e.cfg.Name) - 1
	if ledgerN > maxLedger+segs {
		t.Errorf("ledger requests %d %v; want at most %d (index read and write, the new set's claim and record) + %d (index segments)",
			ledgerN, ledger, maxLedger, segs)
	}
	if all[store.KindList] > pages {
		t.Errorf("listing requests %d; want at most %d (one per 1,000 objects)", all[store.KindList], pages)
	}
	if other := n - all[store.KindList]; other > 20 {
		t.Errorf("%d requests besides the listing %v; want a bound independent of the %d processed sets", other, all, history)
	}
	// And the next poll, nothing new: the listing, the index (its head and
	// segments: at most log2(sets/IndexDelta)+1 of them).
	before = sc.total()
	if pr, err = e.poll(); err != nil || pr.Unchanged != history+1 {
		t.Fatalf("third poll: %d unchanged, %v", pr.Unchanged, err)
	}
	all, n = diff(sc.total(), before)
	reads := indexReads(t, lb, e.cfg.Name)
	t.Logf("poll with nothing new: %d store requests %v (index: %d reads)", n, all, reads)
	if n-all[store.KindList] > reads {
		t.Errorf("poll with nothing new: %v; want the listing and %d index reads (head and segments)", all, reads)
	}
}

// TestPollIndexDoesNotHideWork: a set the poll index holds complete is
// processed again when a run by hand leaves it with a failed action (the
// next poll retries the action) and when a file of it changes.
func TestPollIndexDoesNotHideWork(t *testing.T) {
	for _, lk := range ledgers {
		t.Run(lk.name, func(t *testing.T) {
			e := newEnv(t)
			e.deps.Ledger = lk.make(t, e)
			e.cfg.Callback.Attempts = 1
			e.upload("incomplete.csv", "f.csv")
			if pr, err := e.poll(); err != nil || len(pr.Processed) != 1 {
				t.Fatalf("first poll: %+v, %v", pr, err)
			}
			if pr, err := e.poll(); err != nil || pr.Unchanged != 1 {
				t.Fatalf("second poll: %+v, %v; want unchanged", pr, err)
			}
			e.cb.FailFirst(1, 500)
			if _, err := ProcessSet(context.Background(), e.deps, e.cfg, setPrefix, RunOptions{}); err == nil {
				t.Fatal("run by hand: the failing callback is not an error")
			}
			pr, err := e.poll()
			if err != nil || len(pr.Processed) != 1 {
				t.Fatalf("poll after the failed run by hand: %d processed, %d unchanged, %v; want the callback retried", len(pr.Processed), pr.Unchanged, err)
			}
			wantDoneEarlier(t, pr.Processed[0], ActionEmail)
			if a := findAction(t, pr.Processed[0], ActionCallback); a.Status != StatusDone {
				t.Errorf("retried callback %+v", a)
			}
			e.upload("unknown_profile.csv", "f.csv") // same key, new content
			if pr, err := e.poll(); len(pr.Processed) != 1 || pr.Processed[0].Attempt != 1 {
				t.Errorf("poll after a file changed: %+v, %v; want the set processed in full", pr, err)
			}
		})
	}
}
