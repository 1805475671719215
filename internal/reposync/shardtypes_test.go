package reposync

import (
	"context"
	"fmt"
	"testing"
	"unsafe"

	"github.com/ghsync/ghsync/internal/store"
)

// Issue 20: a loaded sharded manifest holds each content type once a
// shard, not once an object (a 25-byte type is a 32-byte allocation: 32 MB
// at 1,000,000 objects).
func TestLoadedShardsShareContentTypes(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{}
	for i := range 2000 {
		ext := ".txt"
		if i%2 == 0 {
			ext = ".html"
		}
		files[fmt.Sprintf("d%02d/f%04d%s", i/100, i, ext)] = fmt.Sprint("body ", i)
	}
	b, err := store.Open(ctx, "mem://", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	o := Options{Source: newMemSource(files), Bucket: b}
	o.inlineLimit, o.shardAvg = -1, 200
	if _, err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	prev, err := readManifest(ctx, b, DefaultManifestKey)
	if err == nil {
		err = prev.load(ctx, b, DefaultManifestKey)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !prev.sharded() || len(prev.m.Shards) < 2 {
		t.Fatalf("want a sharded manifest of several shards, got sharded=%v with %d", prev.sharded(), len(prev.m.Shards))
	}
	strs := map[*byte]bool{}
	for _, ob := range prev.m.Objects {
		if ob.ContentType == "" {
			t.Fatalf("%s has no content type", ob.Key)
		}
		strs[unsafe.StringData(ob.ContentType)] = true
	}
	if max := 2 * len(prev.m.Shards); len(strs) > max {
		t.Errorf("%d objects in %d shards hold %d content-type strings, want at most %d", len(prev.m.Objects), len(prev.m.Shards), len(strs), max)
	}
}
