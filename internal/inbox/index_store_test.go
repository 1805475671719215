package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/store"
)

// indexReads is the number of objects a poll reads for job's poll index in
// lb: the head and the segments it names.
func indexReads(t *testing.T, lb *store.Bucket, job string) int {
	t.Helper()
	b, _, err := lb.Read(context.Background(), indexKey(job))
	if err != nil {
		t.Fatalf("read the poll index head: %v", err)
	}
	var h indexHead
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("poll index head: %v", err)
	}
	return 1 + len(h.Segments)
}

func memLedgerBucket(t *testing.T) *store.Bucket {
	t.Helper()
	lb, err := store.Open(context.Background(), fmt.Sprintf("mem://inbox-index-%d", bucketSeq.Add(1)), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lb.Close() })
	return lb
}

// TestPollIndexWriteFollowsTheChange: with 5,000 processed sets indexed, a
// poll that processes one new set writes a few kilobytes of ledger (the
// set's claim and record, the index head), not the whole index. Before the
// segmented index it rewrote index.json whole: 5,000 entries, ~640 KB, for
// one new set (and 12.5 MB at 100,000 sets).
func TestPollIndexWriteFollowsTheChange(t *testing.T) {
	const history = 5000
	e := newEnv(t)
	lb := memLedgerBucket(t)
	e.deps.Ledger = StoreLedger{Bucket: lb}
	seedProcessed(t, e, e.deps.Ledger, history)
	if pr, err := e.poll(); err != nil || pr.Unchanged != history {
		t.Fatalf("first poll: %+v, %v", pr, err)
	}
	for round := range 3 {
		// A new set each round (uploadTo is the claim tests' helper).
		e.uploadTo("idox_eros.csv", fmt.Sprintf("N%07d/2026-05-07/2026-04-01T10:00:00Z/new.csv", round))
		before := lb.Stats().BytesUploaded
		pr, err := e.poll()
		if err != nil || len(pr.Processed) != 1 {
			t.Fatalf("poll with one new set: %d processed, %v", len(pr.Processed), err)
		}
		written := lb.Stats().BytesUploaded - before
		t.Logf("round %d: one new set over %d processed: %d ledger bytes written", round, history, written)
		if written > 16<<10 {
			t.Errorf("one new set over %d processed sets wrote %d ledger bytes; want at most 16 KiB (the set's records and the index head)", history, written)
		}
	}
}

// TestPollIndexSegments: a long random sequence of index changes saved one
// poll at a time with a small head bound reads back exactly the model, with
// at most log2(sets/IndexDelta)+2 segments, and no segment object left
// behind that the head does not name.
func TestPollIndexSegments(t *testing.T) {
	ctx := context.Background()
	lb := memLedgerBucket(t)
	l := StoreLedger{Bucket: lb, IndexDelta: 8}
	const job = "j"
	model := map[string]IndexEntry{}
	rng := rand.New(rand.NewPCG(1, 2))
	maxSegs := 0
	for poll := range 400 {
		x, err := l.LoadIndex(ctx, job, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(x.Sets) != len(model) {
			t.Fatalf("poll %d: index has %d sets, want %d", poll, len(x.Sets), len(model))
		}
		for p, e := range model {
			if x.Sets[p] != e {
				t.Fatalf("poll %d: %s is %+v, want %+v", poll, p, x.Sets[p], e)
			}
		}
		// 1 to 12 changes per poll, a tenth of them removals.
		for range 1 + rng.IntN(12) {
			p := fmt.Sprintf("G%04d/", rng.IntN(3000))
			if rng.IntN(10) == 0 {
				x.drop(p)
				delete(model, p)
				continue
			}
			en := IndexEntry{Fingerprint: fmt.Sprintf("%064x", rng.Uint64()), GaveUp: rng.IntN(20) == 0}
			x.set(p, en)
			model[p] = en
		}
		if err := l.SaveIndex(ctx, job, x); err != nil {
			t.Fatal(err)
		}
		maxSegs = max(maxSegs, len(x.segs))
		if bound := int(math.Log2(float64(len(model))/8)) + 2; len(x.segs) > bound {
			t.Fatalf("poll %d: %d segments for %d sets; want at most %d", poll, len(x.segs), len(model), bound)
		}
		var objs int
		if err := lb.List(ctx, func(o store.Object) error {
			if strings.HasPrefix(o.Key, indexSegmentPrefix(job)) {
				objs++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if objs != len(x.segs) {
			t.Fatalf("poll %d: %d segment objects stored, the head names %d", poll, objs, len(x.segs))
		}
	}
	t.Logf("%d sets, at most %d segments", len(model), maxSegs)
}

// TestPollIndexConcurrentSaves: two polls that loaded the same index and
// both changed it (one of them enough to make segments) both land: the
// second write fails its condition, reads the first's index and applies
// its own changes to it.
func TestPollIndexConcurrentSaves(t *testing.T) {
	ctx := context.Background()
	lb := memLedgerBucket(t)
	l := StoreLedger{Bucket: lb, IndexDelta: 4}
	const job = "j"
	base, _ := l.LoadIndex(ctx, job, nil)
	for i := range 10 {
		base.set(fmt.Sprintf("b%d/", i), IndexEntry{Fingerprint: "fb"})
	}
	if err := l.SaveIndex(ctx, job, base); err != nil {
		t.Fatal(err)
	}
	a, _ := l.LoadIndex(ctx, job, nil)
	b, _ := l.LoadIndex(ctx, job, nil)
	for i := range 6 {
		a.set(fmt.Sprintf("a%d/", i), IndexEntry{Fingerprint: "fa"})
	}
	a.drop("b0/")
	b.set("x/", IndexEntry{Fingerprint: "fx"})
	b.drop("b1/")
	if err := l.SaveIndex(ctx, job, a); err != nil {
		t.Fatal(err)
	}
	if err := l.SaveIndex(ctx, job, b); err != nil {
		t.Fatal(err)
	}
	got, err := l.LoadIndex(ctx, job, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"x/": "fx"}
	for i := range 6 {
		want[fmt.Sprintf("a%d/", i)] = "fa"
	}
	for i := 2; i < 10; i++ {
		want[fmt.Sprintf("b%d/", i)] = "fb"
	}
	if len(got.Sets) != len(want) {
		t.Errorf("index has %d sets %v; want %d", len(got.Sets), got.Sets, len(want))
	}
	for p, f := range want {
		if got.Sets[p].Fingerprint != f {
			t.Errorf("%s: %+v, want fingerprint %s", p, got.Sets[p], f)
		}
	}
}

// TestPollIndexReadsVersion1: the index.json of earlier versions (the whole
// index in one object) is read as it is, and the next change converts it:
// the old entries go to a segment, the head keeps only the change.
func TestPollIndexReadsVersion1(t *testing.T) {
	ctx := context.Background()
	lb := memLedgerBucket(t)
	l := StoreLedger{Bucket: lb, IndexDelta: 10}
	const job = "j"
	old := map[string]IndexEntry{}
	for i := range 50 {
		old[fmt.Sprintf("s%d/", i)] = IndexEntry{Fingerprint: fmt.Sprintf("f%d", i), GaveUp: i == 7}
	}
	b, _ := json.Marshal(map[string]any{"version": 1, "sets": old})
	if _, err := lb.Put(ctx, indexKey(job), strings.NewReader(string(b)), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	x, err := l.LoadIndex(ctx, job, nil)
	if err != nil || len(x.Sets) != 50 || !x.Sets["s7/"].GaveUp {
		t.Fatalf("version 1 index read as %d sets, %v", len(x.Sets), err)
	}
	x.set("new/", IndexEntry{Fingerprint: "n"})
	if err := l.SaveIndex(ctx, job, x); err != nil {
		t.Fatal(err)
	}
	if n := indexReads(t, lb, job); n != 2 {
		t.Errorf("converted index: %d objects (head and segments); want 2", n)
	}
	y, err := l.LoadIndex(ctx, job, nil)
	if err != nil || len(y.Sets) != 51 || y.Sets["s3/"].Fingerprint != "f3" || y.Sets["new/"].Fingerprint != "n" {
		t.Fatalf("converted index: %d sets, %v", len(y.Sets), err)
	}
}

// TestPollIndexForgetsRemovedSets: sets that leave the watch area leave the
// head too when no segment holds them (no removal marker is kept for
// nothing), so a watch area emptied by a lifecycle rule leaves an index of
// a few bytes.
func TestPollIndexForgetsRemovedSets(t *testing.T) {
	ctx := context.Background()
	lb := memLedgerBucket(t)
	l := StoreLedger{Bucket: lb}
	const job = "j"
	x, _ := l.LoadIndex(ctx, job, nil)
	for i := range 50 {
		x.set(fmt.Sprintf("s%d/", i), IndexEntry{Fingerprint: strings.Repeat("f", 64)})
	}
	if err := l.SaveIndex(ctx, job, x); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		x.drop(fmt.Sprintf("s%d/", i))
	}
	if err := l.SaveIndex(ctx, job, x); err != nil {
		t.Fatal(err)
	}
	b, _, err := lb.Read(ctx, indexKey(job))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 64 {
		t.Errorf("index of no sets is %d bytes: %s", len(b), b)
	}
	// The same beyond the head: a segment of 2,000 sets, all removed.
	l.IndexDelta = 10
	for i := range 2000 {
		x.set(fmt.Sprintf("t%d/", i), IndexEntry{Fingerprint: "f"})
	}
	if err := l.SaveIndex(ctx, job, x); err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		x.drop(fmt.Sprintf("t%d/", i))
	}
	if err := l.SaveIndex(ctx, job, x); err != nil {
		t.Fatal(err)
	}
	if n := indexReads(t, lb, job); n != 1 {
		t.Errorf("index of no sets: %d objects (head and segments); want the head alone", n)
	}
}
