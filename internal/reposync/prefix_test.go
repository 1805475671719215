package reposync

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/store"
)

// A key prefix is every object's and manifest record's key, across a cold
// run, a change, a deletion and an addition, and a verify run finds no
// drift: items build their keys from the shared prefix and compare them
// unbuilt (compareKeys), so the plan's, the intent's and the manifest's
// key orders must agree with the keys' own. Paths are chosen so that the
// order of keys differs from a naive order of their parts ("a-b" sorts
// before "a/…").
func TestKeyPrefixAcrossRuns(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{"a/b.txt": "1", "a-b.txt": "2", "a.txt": "3", "z/y/x.txt": "4"}
	for i := range 40 {
		files[fmt.Sprintf("d%02d/f.txt", i)] = fmt.Sprint("body ", i)
	}
	src := newMemSource(files)
	b, err := store.Open(ctx, "mem://", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const prefix = "site/v1/"
	run := func(verify bool) *Summary {
		t.Helper()
		s, err := Run(ctx, Options{Source: src, Bucket: b, KeyPrefix: prefix, Verify: verify})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	check := func() {
		t.Helper()
		var keys []string
		err := b.List(ctx, func(o store.Object) error {
			if !strings.HasPrefix(o.Key, ".ghsync/") {
				keys = append(keys, o.Key)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for p := range src.files {
			want = append(want, prefix+p)
		}
		slices.Sort(keys)
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Fatalf("store holds %q, want %q", keys, want)
		}
		prev, err := readManifest(ctx, b, DefaultManifestKey)
		if err == nil {
			err = prev.load(ctx, b, DefaultManifestKey)
		}
		if err != nil {
			t.Fatal(err)
		}
		var recorded []string
		for _, ob := range prev.m.Objects {
			if ob.Key != prefix+ob.Path {
				t.Errorf("manifest records %q at %q", ob.Path, ob.Key)
			}
			recorded = append(recorded, ob.Key)
		}
		if !slices.IsSorted(recorded) || !slices.Equal(recorded, want) {
			t.Fatalf("manifest records %q, want %q in order", recorded, want)
		}
	}
	if s := run(false); s.New != len(files) {
		t.Fatalf("cold run: %d new, want %d", s.New, len(files))
	}
	check()
	src.set("a-b.txt", "changed")
	delete(src.files, "a/b.txt")
	src.set("a/c.txt", "new")
	if s := run(false); s.New != 1 || s.Modified != 1 || s.Deleted != 1 {
		t.Fatalf("second run: new %d modified %d deleted %d, want 1 each", s.New, s.Modified, s.Deleted)
	}
	check()
	if s := run(true); s.New+s.Modified+s.Repaired+s.Deleted != 0 {
		t.Fatalf("verify run changed things: %+v", s)
	}
	check()
}
