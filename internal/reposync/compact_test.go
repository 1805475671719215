package reposync

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// Issue 20: a plan keeps little per object beside the source listing. A
// cold plan of 50,000 files holds at most 96 bytes per upload once built
// (its items point into the listing; no desired-items slice or per-key map
// is kept; the change kind is a byte and the uploads slice is made at its
// size): with a copy of its entry in each item it held 200, with a string
// kind in a slice grown by append 113. Building it allocates at most 100
// bytes per upload, whether or not the store was listed (a first run lists
// it and finds it empty): grown by append, the uploads slice allocated
// ~4× its size, and at its last growth held the old and the new array at
// once (150 MB for an 88 MB plan at 1,000,000 files); each store-listing
// lookup moved its result to the heap (140 bytes per file).
func TestPlanCompact(t *testing.T) {
	const n = 50_000
	for _, tc := range []struct {
		name    string
		listing map[string]store.Object
	}{{"store not listed", nil}, {"empty store listed", map[string]store.Object{}}} {
		t.Run(tc.name, func(t *testing.T) {
			entries, o := coldTree(t, n)
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			before, allocBefore := ms.HeapAlloc, ms.TotalAlloc
			p, err := makePlan(planInput{entries: entries, opts: o, manifest: o.ManifestKey, listing: tc.listing})
			if err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&ms)
			allocated := int64(ms.TotalAlloc-allocBefore) / n
			runtime.GC()
			runtime.ReadMemStats(&ms)
			held := (int64(ms.HeapAlloc) - int64(before)) / n
			if len(p.Uploads) != n {
				t.Fatalf("%d uploads, want %d", len(p.Uploads), n)
			}
			runtime.KeepAlive(p)
			runtime.KeepAlive(entries)
			t.Logf("the plan holds %d bytes per upload; building it allocated %d", held, allocated)
			if held > 96 {
				t.Errorf("the plan holds %d bytes per upload, want at most 96", held)
			}
			if allocated > 100 {
				t.Errorf("building the plan allocated %d bytes per upload, want at most 100", allocated)
			}
		})
	}
}

// listedSource is a memSource whose List returns one listing, kept, and
// which records whether Fetch was handed that listing itself.
type listedSource struct {
	*memSource
	listing []source.Entry
	aliased []bool
}

func (l *listedSource) List(ctx context.Context) ([]source.Entry, error) {
	if l.listing == nil {
		l.listing, _ = l.memSource.List(ctx)
	}
	return l.listing, nil
}

func (l *listedSource) Fetch(ctx context.Context, entries []source.Entry, conc int, fn source.FetchFunc) error {
	l.aliased = append(l.aliased, len(entries) > 0 && &entries[0] == &l.listing[0])
	return l.memSource.Fetch(ctx, entries, conc, fn)
}

// Issue 20: a cold run fetches its uploads from the source listing, not
// from a copy of every entry (72 MB at 1,000,000 files).
func TestColdRunFetchesFromListing(t *testing.T) {
	files := map[string]string{}
	for i := range 300 {
		files[fmt.Sprintf("f%03d.txt", i)] = fmt.Sprint("body ", i)
	}
	src := &listedSource{memSource: newMemSource(files)}
	b, err := store.Open(context.Background(), "mem://", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s, err := Run(context.Background(), Options{Source: src, Bucket: b})
	if err != nil {
		t.Fatal(err)
	}
	if s.New != 300 {
		t.Fatalf("new = %d, want 300", s.New)
	}
	if len(src.aliased) != 1 || !src.aliased[0] {
		t.Errorf("fetches given the listing itself: %v, want [true]", src.aliased)
	}
}

// coldTree returns n small source entries in folders of 1,000 and the
// options of a run into a fresh mem:// bucket (closed with the test).
func coldTree(t *testing.T, n int) ([]source.Entry, *Options) {
	t.Helper()
	entries := make([]source.Entry, n)
	for i := range entries {
		entries[i] = source.Entry{Path: fmt.Sprintf("d%03d/f%06d.txt", i/1000, i), Size: 10, Blob: numberedBlob(i)}
	}
	b, err := store.Open(context.Background(), "mem://", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	o := &Options{Bucket: b}
	o.defaults()
	return entries, o
}
