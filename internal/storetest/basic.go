package storetest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ghsync/ghsync/internal/store"
)

// testPutReadStatList: what every scheme keeps of an object — its body,
// size and ETag — agrees across Put, Read, Stat and List. What it keeps of
// the object's attributes is checked by testAttributes / testNoAttributes.
func testPutReadStatList(t *testing.T, be Backend) {
	ctx := context.Background()
	b := Open(t, be.URL(t, "site/v1/"), store.Options{})
	if b.Prefix() != "site/v1/" || b.Kind() != be.Scheme {
		t.Fatalf("Prefix() = %q, Kind() = %q", b.Prefix(), b.Kind())
	}
	md := map[string]string{"ghsync-blob": "0123abcd"}
	got := Put(t, b, "dir/index.html", "<html>hi</html>", store.PutOptions{
		ContentType: "text/html; charset=utf-8", CacheControl: "no-cache", Metadata: md,
	})
	if got.ETag == "" || got.Size != 15 || got.Key != "dir/index.html" {
		t.Fatalf("Put returned %+v", got)
	}
	data, etag, err := b.Read(ctx, "dir/index.html")
	if err != nil || string(data) != "<html>hi</html>" || etag != got.ETag {
		t.Fatalf("Read = %q, %q, %v; want body and ETag %q", data, etag, err, got.ETag)
	}
	st, err := b.Stat(ctx, "dir/index.html")
	if err != nil {
		t.Fatal(err)
	}
	if st.ETag != got.ETag || st.Size != 15 || st.Key != "dir/index.html" {
		t.Errorf("Stat = %+v, want ETag %s size 15", st, got.ETag)
	}
	lst := ListAll(t, b)
	if len(lst) != 1 || lst["dir/index.html"].ETag != got.ETag || lst["dir/index.html"].Size != 15 {
		t.Errorf("List = %+v, want one object with ETag %s", lst, got.ETag)
	}
	// A body stored with Content-Encoding: gzip reads back as stored (no
	// transparent gunzip by the SDK or its HTTP transport).
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(strings.Repeat("compressible ", 100)))
	_ = zw.Close()
	zobj := Put(t, b, "data.json", gz.String(), store.PutOptions{ContentType: "application/json", ContentEncoding: "gzip"})
	if data, etag, err := b.Read(ctx, "data.json"); err != nil || !bytes.Equal(data, gz.Bytes()) || etag != zobj.ETag {
		t.Errorf("gzip-encoded object read back as %d bytes (stored %d), ETag %s (Put %s), %v", len(data), gz.Len(), etag, zobj.ETag, err)
	}
}

func testMissingAndBadKeys(t *testing.T, be Backend) {
	ctx := context.Background()
	b := Open(t, be.URL(t, ""), store.Options{})
	if _, _, err := b.Read(ctx, "nope.txt"); !errors.Is(err, store.ErrNotExist) {
		t.Errorf("Read missing: %v, want ErrNotExist", err)
	}
	if _, err := b.Stat(ctx, "nope.txt"); !errors.Is(err, store.ErrNotExist) {
		t.Errorf("Stat missing: %v, want ErrNotExist", err)
	}
	if err := b.Delete(ctx, []string{"nope.txt", "a/b/c"}); err != nil {
		t.Errorf("Delete missing keys: %v", err)
	}
	for _, k := range []string{"", "/abs", "dir/", "a//b", "a/../b", "./a", "bad\x00key", "tab\tkey", strings.Repeat("k", 1025)} {
		if _, err := b.Put(ctx, k, strings.NewReader("x"), store.PutOptions{}); err == nil {
			t.Errorf("Put(%.40q) succeeded; want a bad-key error", k)
		}
	}
	if _, err := b.Put(ctx, "k", strings.NewReader("x"), store.PutOptions{IfMatch: `"x"`, IfNoneMatch: true}); err == nil {
		t.Error("Put with IfMatch and IfNoneMatch succeeded")
	}
	if _, err := b.Put(ctx, "k", strings.NewReader("x"), store.PutOptions{Metadata: map[string]string{"bad key": "v"}}); err == nil {
		t.Error("Put with metadata key containing a space succeeded")
	}
}

// testConditionalWrites: conditional create and replace, winner and loser.
func testConditionalWrites(t *testing.T, be Backend) {
	ctx := context.Background()
	b := Open(t, be.URL(t, "p/"), store.Options{})
	const key = ".ghsync/manifest.json"
	// IfMatch on a missing object fails.
	_, err := b.Put(ctx, key, strings.NewReader("v0"), store.PutOptions{IfMatch: `"0123"`})
	if !errors.Is(err, store.ErrPreconditionFailed) {
		t.Fatalf("IfMatch on missing: %v, want ErrPreconditionFailed", err)
	}
	// IfNoneMatch creates; a second IfNoneMatch fails and changes nothing.
	v1 := Put(t, b, key, "v1", store.PutOptions{IfNoneMatch: true})
	_, err = b.Put(ctx, key, strings.NewReader("XX"), store.PutOptions{IfNoneMatch: true})
	if !errors.Is(err, store.ErrPreconditionFailed) {
		t.Fatalf("IfNoneMatch on existing: %v, want ErrPreconditionFailed", err)
	}
	// IfMatch with the current ETag succeeds and yields a new ETag.
	v2 := Put(t, b, key, "v2", store.PutOptions{IfMatch: v1.ETag})
	if v2.ETag == v1.ETag {
		t.Fatalf("same-size rewrite kept ETag %s", v2.ETag)
	}
	// IfMatch with the stale ETag fails and changes nothing.
	_, err = b.Put(ctx, key, strings.NewReader("v3"), store.PutOptions{IfMatch: v1.ETag})
	if !errors.Is(err, store.ErrPreconditionFailed) {
		t.Fatalf("IfMatch stale: %v, want ErrPreconditionFailed", err)
	}
	data, etag, err := b.Read(ctx, key)
	if err != nil || string(data) != "v2" || etag != v2.ETag {
		t.Fatalf("after failed writes Read = %q %q %v; want v2 %s", data, etag, err, v2.ETag)
	}
	// A chain of fast same-size conditional rewrites: each must see a new ETag.
	prev := v2
	for i := range 20 {
		next := Put(t, b, key, "w"+string(rune('a'+i)), store.PutOptions{IfMatch: prev.ETag})
		if next.ETag == prev.ETag {
			t.Fatalf("rewrite %d kept ETag %s", i, next.ETag)
		}
		prev = next
	}
	if st, err := b.Stat(ctx, key); err != nil || st.ETag != prev.ETag {
		t.Fatalf("Stat after chain = %v %v, want ETag %s", st.ETag, err, prev.ETag)
	}
}

// testConditionalRaces: racers with their own Bucket create the same key
// with IfNoneMatch, then replace it with IfMatch on the same ETag; exactly
// one wins each round and the others fail with ErrPreconditionFailed.
func testConditionalRaces(t *testing.T, be Backend) {
	ctx := context.Background()
	root := be.URL(t, "race/")
	const racers = 6
	buckets := make([]*store.Bucket, racers)
	for i := range buckets {
		buckets[i] = Open(t, root, store.Options{})
	}
	race := func(round int, o store.PutOptions) store.Object {
		t.Helper()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var wins []store.Object
		losers := 0
		for i, b := range buckets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				obj, err := b.Put(ctx, "m.json", strings.NewReader(fmt.Sprintf("r%02d-w%d", round, i)), o)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins = append(wins, obj)
				case errors.Is(err, store.ErrPreconditionFailed):
					losers++
				default:
					t.Errorf("round %d racer %d: %v", round, i, err)
				}
			}()
		}
		wg.Wait()
		if len(wins) != 1 || losers != racers-1 {
			t.Fatalf("round %d: %d winners, %d precondition failures; want 1 and %d", round, len(wins), losers, racers-1)
		}
		data, etag, err := buckets[0].Read(ctx, "m.json")
		if err != nil || etag != wins[0].ETag || !strings.HasPrefix(string(data), fmt.Sprintf("r%02d-", round)) {
			t.Fatalf("round %d: Read %q %s %v; winner ETag %s", round, data, etag, err, wins[0].ETag)
		}
		return wins[0]
	}
	cur := race(0, store.PutOptions{IfNoneMatch: true})
	for round := 1; round <= 4; round++ {
		next := race(round, store.PutOptions{IfMatch: cur.ETag})
		if next.ETag == cur.ETag {
			t.Fatalf("round %d: ETag did not change", round)
		}
		cur = next
	}
}

func testDeleteAndPrefixIsolation(t *testing.T, be Backend) {
	ctx := context.Background()
	root := be.Root(t)
	a := Open(t, WithPrefix(t, root, "a/"), store.Options{})
	bb := Open(t, WithPrefix(t, root, "b/"), store.Options{})
	for _, k := range []string{"1", "2", "x/3"} {
		Put(t, a, k, "A"+k, store.PutOptions{})
	}
	Put(t, bb, "1", "B1", store.PutOptions{})
	if got := ListAll(t, a); len(got) != 3 {
		t.Fatalf("prefix a lists %d objects, want 3: %v", len(got), got)
	}
	if err := a.Delete(ctx, []string{"1", "x/3", "missing"}); err != nil {
		t.Fatal(err)
	}
	if got := ListAll(t, a); len(got) != 1 || got["2"].Key != "2" {
		t.Fatalf("after delete prefix a lists %v, want only 2", got)
	}
	if data, _, err := bb.Read(ctx, "1"); err != nil || string(data) != "B1" {
		t.Fatalf("prefix b object = %q %v, want B1", data, err)
	}
	whole := Open(t, root, store.Options{})
	if got := ListAll(t, whole); len(got) != 2 || got["a/2"].Key == "" || got["b/1"].Key == "" {
		t.Fatalf("unprefixed listing = %v, want a/2 and b/1", got)
	}
}

// testStatsCounts: one request of each kind, as the scheme's declared
// capabilities say.
func testStatsCounts(t *testing.T, be Backend) {
	ctx := context.Background()
	b := Open(t, be.URL(t, "s/"), store.Options{})
	caps := b.Capabilities()
	Put(t, b, "k", "hello", store.PutOptions{})
	if _, _, err := b.Read(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Stat(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	ListAll(t, b)
	if err := b.Delete(ctx, []string{"k"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"get": 1, "head": 1, "put": 1, "list": 1, "delete": 1, "multipart_part": 0}
	if !caps.PutReturnsETag {
		want["head"]++
	}
	if !caps.ReadReturnsETag {
		want["head"]++
	}
	if !caps.ListETags {
		want["head"]++
	}
	st := b.Stats()
	if d := cmp.Diff(want, st.Requests); d != "" {
		t.Errorf("Stats.Requests (-want +got):\n%s", d)
	}
	if st.BytesUploaded != 5 {
		t.Errorf("BytesUploaded = %d, want 5", st.BytesUploaded)
	}
}
