package reposync

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"unsafe"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// Issue 20: a plan keeps little per object beside the source listing. A
// cold plan of 50,000 files holds at most 48 bytes per upload once built
// (its items point into the listing; no desired-items slice or per-key map
// is kept; the change kind is a byte and the uploads slice is made at its
// size; the path is the end of the key and the content type and cache
// control are shared): with a copy of its entry in each item it held 200,
// with a string kind in a slice grown by append 113, with its own path,
// content type, cache control and existing-object fields 88. Building it allocates at most 56
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
			if held > 48 {
				t.Errorf("the plan holds %d bytes per upload, want at most 48", held)
			}
			if allocated > 56 {
				t.Errorf("building the plan allocated %d bytes per upload, want at most 56", allocated)
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

// An item's path is the end of its key and its attributes are shared; an
// item whose path is not the end of its key keeps it, and recording an
// existing object on one item never changes another's.
func TestItemPathAndSharedAttrs(t *testing.T) {
	attrs := attrTable{}
	e := source.Entry{Path: "docs/a.md"}
	a := newItem("site/docs/a.md", "docs/a.md", &e, attrs.get("text/markdown", "no-cache"))
	b := newItem("docs/b.md", "docs/b.md", &e, attrs.get("text/markdown", "no-cache"))
	odd := newItem("archive.zip", "repo", nil, nil) // a path that is not the end of the key
	if a.Path() != "docs/a.md" || b.Path() != "docs/b.md" || odd.Path() != "repo" {
		t.Fatalf("paths %q %q %q", a.Path(), b.Path(), odd.Path())
	}
	if a.attrs != b.attrs || len(attrs) != 1 {
		t.Fatalf("items with the same content type and cache control do not share attributes (%d made)", len(attrs))
	}
	a.setExisting(&store.Object{Key: "site/docs/a.md", ETag: `"x"`})
	if b.existing() != nil || a.existing() == nil || a.existing().ETag != `"x"` {
		t.Fatalf("existing object: a %v, b %v", a.existing(), b.existing())
	}
	if a.ContentType() != "text/markdown" || a.CacheControl() != "no-cache" || odd.ContentType() != "" {
		t.Fatalf("attributes lost: %q %q %q", a.ContentType(), a.CacheControl(), odd.ContentType())
	}
	if got := unsafe.Sizeof(Item{}); got > 40 {
		t.Errorf("an Item is %d bytes, want at most 40", got)
	}
}
