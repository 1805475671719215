package reposync

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// statSource is a memSource with a stat cache: it keeps the func UseKnown
// gives it.
type statSource struct {
	*memSource
	known func(string) (source.Known, bool)
}

func (s *statSource) UseKnown(known func(string) (source.Known, bool)) { s.known = known }

// Issue 20: the stat cache of a sharded manifest holds a compact record a
// object (at most 100 bytes with its key), not the manifest's objects (an
// up-to-date dir: run of 1,000,000 files held them all: 522 MB peak); it
// answers what the manifest records, leaves out placeholders, and once
// released answers nothing.
func TestKnownTableIsCompact(t *testing.T) {
	ctx := context.Background()
	const n = 20_000
	files := map[string]string{}
	for i := range n {
		files[fmt.Sprintf("d%02d/f%05d.txt", i/1000, i)] = fmt.Sprint("body ", i)
	}
	b, err := store.Open(ctx, "mem://", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	src := &statSource{memSource: newMemSource(files)}
	o := Options{Source: src, Bucket: b}
	o.inlineLimit, o.shardAvg = -1, 500
	if _, err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	o.defaults()
	editManifest(t, b, func(m *Manifest) { // a failed run's placeholder (a root's pending key)
		for i := range m.Objects {
			if m.Objects[i].Key == "d00/f00007.txt" {
				m.Objects[i].Blob = ""
			}
		}
	})
	prev, err := readManifest(ctx, b, DefaultManifestKey)
	if err != nil || !prev.sharded() || len(prev.m.Pending) != 1 {
		t.Fatalf("read manifest: %v (sharded: %v, pending %v)", err, prev.sharded(), prev.m.Pending)
	}
	// What the manifest's objects hold, the stat cache's source before (252
	// bytes an object when written).
	full := prev
	b0 := heapHeld()
	if err := full.load(ctx, b, DefaultManifestKey); err != nil {
		t.Fatal(err)
	}
	fullHeld := (heapHeld() - b0) / n
	t.Logf("the manifest's objects hold %d bytes an object", fullHeld)
	runtime.KeepAlive(full.m.Objects)
	prev.m.Objects = nil // shared with full.m

	before := heapHeld()
	release, err := useKnown(ctx, &o, &prev)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := src.known("d03/f03456.txt")
	held := (heapHeld() - before) / n
	t.Logf("the stat cache holds %d bytes an object", held)
	if !ok || k.Size != int64(len("body 3456")) || k.Blob != gitSHA("body 3456") {
		t.Fatalf("known d03/f03456.txt = %+v, %v", k, ok)
	}
	if held > 100 || held > fullHeld/2 {
		t.Errorf("the stat cache holds %d bytes an object, want at most 100 and half the manifest's objects (%d)", held, fullHeld)
	}
	if prev.loaded {
		t.Error("the stat cache loaded the manifest's objects")
	}
	if _, ok := src.known("d00/f00007.txt"); ok {
		t.Error("a pending key was known")
	}
	if _, ok := src.known("nope.txt"); ok {
		t.Error("an absent path was known")
	}
	release()
	if _, ok := src.known("d03/f03456.txt"); ok {
		t.Error("known after release")
	}
}
