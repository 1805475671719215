package reposync

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// sameBody is a source whose every file holds body.
type sameBody struct{ body string }

func (sameBody) String() string { return "same:test" }
func (sameBody) Resolve(context.Context, source.Hint) (source.Revision, error) {
	return source.Revision{Commit: strings.Repeat("c", 40)}, nil
}
func (sameBody) List(context.Context) ([]source.Entry, error) { return nil, nil }
func (s sameBody) Fetch(ctx context.Context, entries []source.Entry, _ int, fn source.FetchFunc) error {
	for _, e := range entries {
		if err := fn(ctx, e, io.NopCloser(strings.NewReader(s.body))); err != nil {
			return err
		}
	}
	return nil
}

// heapHeld returns the live heap after collecting (twice: pooled buffers
// go at the second).
func heapHeld() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// Issue 20: what a cold apply keeps per upload beside its plan, until the
// manifest is written, is the ETag record: 17 bytes. Applying 10,000
// files into file:// held 57 bytes per upload: an ETag string (16 bytes
// of header and a 24-byte allocation), a done flag, and the key again in
// Summary.Keys (16 bytes), which only a CDN invalidation reads.
func TestColdApplyHoldsLittlePerUpload(t *testing.T) {
	const n, body = 10_000, "0123456789"
	blob := mustBlob(gitSHA(body))
	entries := make([]source.Entry, n)
	for i := range entries {
		entries[i] = source.Entry{Path: fmt.Sprintf("d%03d/f%06d.txt", i/1000, i), Size: int64(len(body)), Blob: blob}
	}
	ctx := context.Background()
	b, err := store.Open(ctx, "file://"+t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	o := &Options{Bucket: b, Source: sameBody{body}}
	o.defaults()
	p, err := makePlan(planInput{entries: entries, opts: o, manifest: o.ManifestKey, listing: map[string]store.Object{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, "warm", strings.NewReader(body), store.PutOptions{Size: int64(len(body))}); err != nil {
		t.Fatal(err) // the bucket's lazily made state, before measuring
	}
	s := &Summary{}
	before := heapHeld()
	res, err := applyPlan(ctx, o, p, s)
	if err != nil {
		t.Fatal(err)
	}
	held := (heapHeld() - before) / n
	runtime.KeepAlive(entries)
	t.Logf("a cold apply of %d files into file:// holds %d bytes per upload", n, held)
	if held > 24 {
		t.Errorf("a cold apply holds %d bytes per upload beside its plan, want at most 24", held)
	}
	if res.count() != n || s.Keys != nil {
		t.Fatalf("%d objects applied, want %d; %d keys listed, want none", res.count(), n, len(s.Keys))
	}
	for ob := range res.objects() {
		got, err := b.Stat(ctx, ob.Key)
		if err != nil || got.ETag != ob.ETag {
			t.Fatalf("%s: manifest ETag %q, the store has %q (%v)", ob.Key, ob.ETag, got.ETag, err)
		}
	}
}

// Issue 20: at S3, whose ETags are quoted MD5s (34 bytes), recording the
// ETags of 50,000 uploads holds 17 bytes per upload; it held 84: a string
// each (16 bytes of header, a 48-byte allocation), a done flag, and the key
// again in Summary.Keys.
func TestRecordedMD5ETagsAreCompact(t *testing.T) {
	const n = 50_000
	items := make([]Item, n)
	e := source.Entry{Path: "f"}
	for i := range items {
		items[i] = newItem("f", "f", &e, nil)
		items[i].slot = int32(i)
	}
	s := &Summary{}
	before := heapHeld()
	a := &applier{o: &Options{}, s: s, res: &applied{uploads: items, etags: newETagTable(n)}}
	for i := range items {
		a.record(items[i], fmt.Sprintf(`"%032x"`, i*7919), false) // a fresh string, as a Put response gives
	}
	held := (heapHeld() - before) / n
	t.Logf("recording %d MD5 ETags holds %d bytes per upload", n, held)
	if held > 20 {
		t.Errorf("recording MD5 ETags holds %d bytes per upload, want at most 20", held)
	}
	if got, want := a.res.etags.get(n-1), fmt.Sprintf(`"%032x"`, (n-1)*7919); got != want || a.res.count() != n {
		t.Errorf("last ETag %q, want %q; %d recorded, want %d", got, want, a.res.count(), n)
	}
	runtime.KeepAlive(a)
}
