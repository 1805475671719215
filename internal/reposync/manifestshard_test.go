package reposync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"testing"

	"github.com/ghsync/ghsync/internal/store"
)

// sharded makes a run write a sharded manifest with small shards.
func sharded(o *Options) { o.inlineLimit, o.shardAvg = -1, 4 }

func manyFiles(n int) map[string]string {
	files := map[string]string{}
	for i := range n {
		files[fmt.Sprintf("d%02d/f%04d.txt", i/50, i)] = fmt.Sprint("content ", i)
	}
	return files
}

// shardKeys lists the manifest shards present in the store.
func shardKeys(t *testing.T, b *store.Bucket) []string {
	t.Helper()
	var out []string
	if err := b.List(context.Background(), func(o store.Object) error {
		if isShardKey(DefaultManifestKey, o.Key) {
			out = append(out, o.Key)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// checkShardsNamed asserts that the store holds exactly the shards the
// manifest names: nothing the record needs is gone, no garbage is left.
func checkShardsNamed(t *testing.T, b *store.Bucket) *Manifest {
	t.Helper()
	return checkShards(t, b, true)
}

// checkShards asserts that every shard the manifest names is in the store
// and, with exact, that no other is.
func checkShards(t *testing.T, b *store.Bucket, exact bool) *Manifest {
	t.Helper()
	m, err := ReadManifest(context.Background(), b, DefaultManifestKey)
	if err != nil || m == nil {
		t.Fatalf("read manifest: %v", err)
	}
	var want []string
	for _, r := range m.Shards {
		want = append(want, shardKey(DefaultManifestKey, r.Name))
	}
	sort.Strings(want)
	got := shardKeys(t, b)
	present := map[string]bool{}
	for _, k := range got {
		present[k] = true
	}
	for _, k := range want {
		if !present[k] {
			t.Fatalf("the manifest names shard %s, which the store does not hold", k)
		}
	}
	if exact && len(got) != len(want) {
		t.Fatalf("store holds %d shards, the manifest names %d: garbage left", len(got), len(want))
	}
	return m
}

// The write cost of a sharded manifest follows the change (issue 20): a
// one-file change writes the intent root, the file, the one shard holding
// it and the root, and deletes the shard it replaces; a no-change run
// writes nothing and reads only the root.
func TestShardedManifestWritesFollowTheChange(t *testing.T) {
	for _, dest := range []string{"mem", "file"} {
		t.Run(dest, func(t *testing.T) {
			tb := setup(t, manyFiles(400))
			if dest == "file" {
				tb.url = "file://" + t.TempDir() + "/"
				tb.b = openBucket(t, tb.url)
			}
			cold := tb.run(t, sharded)
			if cold.New != 400 {
				t.Fatalf("cold: %+v", cold)
			}
			m := checkShardsNamed(t, tb.b)
			if m.Version != ShardedManifestVersion || len(m.Objects) != 400 || len(m.Shards) < 20 || len(m.Pending) != 0 {
				t.Fatalf("manifest version %d, %d objects, %d shards, %d pending; want a sharded manifest of 400 objects", m.Version, len(m.Objects), len(m.Shards), len(m.Pending))
			}
			checkManifestTrue(t, tb.url)
			// What `ghsync jobs` shows comes from the root alone.
			data, _, err := tb.b.Read(context.Background(), DefaultManifestKey)
			if err != nil {
				t.Fatal(err)
			}
			var root Manifest
			if err := json.Unmarshal(data, &root); err != nil || root.ObjectCount() != 400 || len(data) > 10<<10 {
				t.Fatalf("root: %d bytes, object count %d (%v); want at most 10 KB counting 400", len(data), root.ObjectCount(), err)
			}

			s := tb.run(t, sharded)
			if !s.UpToDate || s.StoreRequests["put"] != 0 || s.StoreRequests["get"] != 1 {
				t.Fatalf("no-change run: up to date %v, requests %v; want up to date, no put, one get (the root)", s.UpToDate, s.StoreRequests)
			}

			tb.src.set("d03/f0170.txt", "changed")
			s = tb.run(t, sharded)
			if s.Modified != 1 || s.New+s.Deleted != 0 {
				t.Fatalf("one change: %+v", s)
			}
			if s.StoreRequests["put"] != 4 || s.StoreRequests["delete"] != 1 {
				t.Fatalf("one change: requests %v; want 4 puts (intent root, file, one shard, root) and 1 delete (the replaced shard)", s.StoreRequests)
			}
			m2 := checkShardsNamed(t, tb.b)
			changed := 0
			for i := range m2.Shards {
				if m2.Shards[i] != m.Shards[i] {
					changed++
				}
			}
			if len(m2.Shards) != len(m.Shards) || changed != 1 {
				t.Fatalf("%d of %d shards changed (before: %d shards); want exactly 1", changed, len(m2.Shards), len(m.Shards))
			}
			checkManifestTrue(t, tb.url)
			sameFiles(t, storeFilesOf(t, tb), sourceFiles(tb.src))

			delete(tb.src.files, "d07/f0399.txt")
			tb.src.set("d00/new.txt", "new")
			if s := tb.run(t, sharded); s.New != 1 || s.Deleted != 1 {
				t.Fatalf("add and delete: %+v", s)
			}
			checkShardsNamed(t, tb.b)
			checkManifestTrue(t, tb.url)
			sameFiles(t, storeFilesOf(t, tb), sourceFiles(tb.src))
		})
	}
}

// sourceFiles is the source's path → body.
func sourceFiles(src *memSource) map[string]string {
	out := map[string]string{}
	for k, f := range src.files {
		out[k] = f.body
	}
	return out
}

// storeFilesOf is the store's key → body without the manifest.
func storeFilesOf(t *testing.T, tb *bundle) map[string]string {
	t.Helper()
	out := tb.objects(t)
	delete(out, DefaultManifestKey)
	return out
}

// A run that fails half-way over a sharded manifest leaves a root whose
// pending placeholders cover every key it may have changed; the manifest
// claims nothing untrue, and the next run converges (issue 16 item 2 on the
// sharded form).
func TestShardedFailedRunLeavesNoFalseClaim(t *testing.T) {
	tb := setup(t, manyFiles(100))
	tb.run(t, sharded)
	tb.src.set("d00/f0003.txt", "v2 of 3")
	tb.src.set("d01/f0060.txt", "v2 of 60")
	tb.src.set("d01/zz-new.txt", "new")
	tb.src.failAt = "d01/f0060.txt"
	one := func(o *Options) { sharded(o); o.Concurrency = 1 }
	if _, err := tb.tryRun(t, one); err == nil {
		t.Fatal("want the injected failure")
	}
	if got := tb.objects(t)["d00/f0003.txt"]; got != "v2 of 3" {
		t.Fatalf("the failed run did not overwrite f0003 first (%q): the test proves nothing", got)
	}
	m := checkShardsNamed(t, tb.b)
	if m.Commit != "" || len(m.Pending) != 3 {
		t.Fatalf("after the failure: commit %q, pending %v; want no commit and the 3 touched keys pending", m.Commit, m.Pending)
	}
	checkManifestTrue(t, tb.url)

	// Upstream goes back to v1 of f0003: the next run must put it back.
	tb.src.failAt = ""
	tb.src.set("d00/f0003.txt", "content 3")
	s := tb.run(t, one)
	if s.UpToDate {
		t.Fatalf("run after the failure is up to date: %+v", s)
	}
	checkShardsNamed(t, tb.b)
	checkManifestTrue(t, tb.url)
	sameFiles(t, storeFilesOf(t, tb), sourceFiles(tb.src))
	if m, _ := ReadManifest(context.Background(), tb.b, DefaultManifestKey); len(m.Pending) != 0 || m.Commit == "" {
		t.Fatalf("after convergence: commit %q, %d pending", m.Commit, len(m.Pending))
	}
}

// Two overlapping runs on a sharded manifest: only one commits.
func TestShardedOverlappingRunsOnlyOneWins(t *testing.T) {
	tb := setup(t, manyFiles(60))
	tb.run(t, sharded)
	tb.src.set("d00/f0001.txt", "changed")
	rs := &raceSource{memSource: tb.src}
	rs.inner = func() {
		if _, err := tb.tryRun(t, sharded); err != nil {
			t.Errorf("inner run: %v", err)
		}
	}
	_, err := tb.tryRun(t, func(o *Options) { sharded(o); o.Source = rs })
	if !errors.Is(err, ErrConcurrentRun) {
		t.Fatalf("outer run: want ErrConcurrentRun, got %v", err)
	}
	// The loser's shards are garbage; a later run that lists
	// the store removes them once they are an hour old.
	checkShards(t, tb.b, false)
	checkManifestTrue(t, tb.url)
}

// A lost root: the next run adopts every object (no upload) and writes a
// new sharded manifest.
func TestShardedLostManifestIsAdopted(t *testing.T) {
	tb := setup(t, manyFiles(80))
	tb.run(t, sharded)
	if err := tb.b.Delete(context.Background(), []string{DefaultManifestKey}); err != nil {
		t.Fatal(err)
	}
	s := tb.run(t, sharded)
	if s.New != 0 || s.Adopted != 80 || s.BytesUploaded > 64<<10 {
		t.Fatalf("after losing the manifest: %+v; want 80 adopted, nothing uploaded but the manifest", s)
	}
	// The lost root's shards are garbage now (the new root's names are
	// fresh: shardname.go); a later commit collects them past the grace.
	checkShards(t, tb.b, false)
	checkManifestTrue(t, tb.url)
	tb.src.set("d00/f0001.txt", "changed")
	tb.run(t, func(o *Options) { sharded(o); o.shardGraceOverride = -1 })
	checkShardsNamed(t, tb.b)
}

// An inline manifest above the inline limit (an older build's single
// document) is converted by the next run, which uploads no object, and the
// run after that is up to date.
func TestOldSingleFileManifestIsConverted(t *testing.T) {
	tb := setup(t, manyFiles(120))
	tb.run(t, inline) // 120 ≤ DefaultManifestInline
	if m, _ := ReadManifest(context.Background(), tb.b, DefaultManifestKey); m.Version != ManifestVersion || len(m.Shards) != 0 {
		t.Fatalf("first run wrote version %d with %d shards; want an inline manifest", m.Version, len(m.Shards))
	}
	before := tb.objects(t)
	s := tb.run(t, sharded)
	if s.UpToDate || s.New+s.Modified+s.Deleted != 0 || s.Unchanged != 120 {
		t.Fatalf("conversion run: %+v; want not up to date, 120 unchanged, nothing uploaded", s)
	}
	m := checkShardsNamed(t, tb.b)
	if m.Version != ShardedManifestVersion || len(m.Objects) != 120 {
		t.Fatalf("converted manifest: version %d, %d objects", m.Version, len(m.Objects))
	}
	after := tb.objects(t)
	for k, v := range before {
		if k != DefaultManifestKey && after[k] != v {
			t.Fatalf("%s changed during conversion", k)
		}
	}
	if s := tb.run(t, sharded); !s.UpToDate {
		t.Fatalf("run after conversion: %+v", s)
	}
	checkManifestTrue(t, tb.url)
}
