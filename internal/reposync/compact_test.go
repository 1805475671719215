package reposync

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// Issue 20: a plan keeps little per object beside the source listing. A
// cold plan of 50,000 files holds at most 32 bytes per upload once built
// (its items point into the listing; no desired-items slice or per-key map
// is kept; the change kind is a byte and the uploads slice is made at its
// size; the key is the shared prefix and the content's path, and the
// content type and cache control are shared): with a copy of its entry in
// each item it held 200, with a string kind in a slice grown by append
// 113, with its own path, content type, cache control and existing-object
// fields 88, with its own key 40. Building it allocates at most 40
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
			if held > 32 {
				t.Errorf("the plan holds %d bytes per upload, want at most 32", held)
			}
			if allocated > 40 {
				t.Errorf("building the plan allocated %d bytes per upload, want at most 40", allocated)
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

// An item's key is its attributes' prefix and its content's path, and its
// attributes are shared; an item with another path (a followed symlink)
// or another key (an archive, a placeholder) keeps them in its own copy,
// and recording an existing object on one item never changes another's.
// Keys compare as strings without being built.
func TestItemKeysAndSharedAttrs(t *testing.T) {
	attrs := attrTable{}
	ea, eb, target := source.Entry{Path: "docs/a.md"}, source.Entry{Path: "docs/b.md"}, source.Entry{Path: "docs/t.md"}
	a := newItem("site/docs/a.md", "docs/a.md", &ea, attrs.get("site/", "text/markdown", "no-cache"))
	b := newItem("site/docs/b.md", "docs/b.md", &eb, attrs.get("site/", "text/markdown", "no-cache"))
	link := newItem("site/docs/link.md", "docs/link.md", &target, attrs.get("site/", "text/markdown", "no-cache"))
	odd := newItem("archive.zip", "repo", nil, nil)
	for _, tc := range []struct {
		it        Item
		key, path string
	}{{a, "site/docs/a.md", "docs/a.md"}, {b, "site/docs/b.md", "docs/b.md"}, {link, "site/docs/link.md", "docs/link.md"}, {odd, "archive.zip", "repo"}} {
		if tc.it.Key() != tc.key || tc.it.Path() != tc.path {
			t.Errorf("key %q path %q, want %q %q", tc.it.Key(), tc.it.Path(), tc.key, tc.path)
		}
	}
	if a.attrs != b.attrs || len(attrs) != 1 || link.attrs == a.attrs {
		t.Fatalf("attributes shared wrongly (%d made; a=b %v, link=a %v)", len(attrs), a.attrs == b.attrs, link.attrs == a.attrs)
	}
	a.setExisting(&store.Object{Key: "site/docs/a.md", ETag: `"x"`})
	if b.existing() != nil || a.existing() == nil || a.existing().ETag != `"x"` {
		t.Fatalf("existing object: a %v, b %v", a.existing(), b.existing())
	}
	if a.ContentType() != "text/markdown" || a.CacheControl() != "no-cache" || odd.ContentType() != "" {
		t.Fatalf("attributes lost: %q %q %q", a.ContentType(), a.CacheControl(), odd.ContentType())
	}
	items := []Item{a, b, link, odd}
	for _, x := range items {
		for _, y := range items {
			if got, want := compareKeys(&x, &y), strings.Compare(x.Key(), y.Key()); got != want {
				t.Errorf("compareKeys(%q, %q) = %d, want %d", x.Key(), y.Key(), got, want)
			}
			for _, k := range []string{y.Key(), "site/", "site/docs/a", "site/docs/a.md0", "s", ""} {
				if got, want := compareKey(&x, k), strings.Compare(x.Key(), k); got != want {
					t.Errorf("compareKey(%q, %q) = %d, want %d", x.Key(), k, got, want)
				}
			}
		}
	}
	if got := unsafe.Sizeof(Item{}); got > 24 {
		t.Errorf("an Item is %d bytes, want at most 24", got)
	}
}
