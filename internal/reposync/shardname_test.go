package reposync

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// rootShards returns the shards the stored root names.
func rootShards(t *testing.T, tb *bundle) []ShardRef {
	t.Helper()
	m := checkShards(t, tb.b, false)
	return m.Shards
}

// lateDrop replays a run's dropShards of the root naming old, replaced by
// the root naming keep, against tb's store now (the delete arriving late:
// a lost answer retried after a pause).
func lateDrop(t *testing.T, url string, old, keep []ShardRef) {
	t.Helper()
	o := &Options{Bucket: openBucket(t, url), ManifestKey: DefaultManifestKey, Logger: slog.Default()}
	dropShards(context.Background(), o, old, keep)
}

// Run A adds a file and commits; its delete of the shard it replaced lands
// late, after run B removed the file again: B's shard holds the very
// entries A's replaced shard held. The late delete must not remove a shard
// B's root names: the manifest stays readable and the next run is up to
// date. (With names by content alone, B stored and named A's replaced
// name again, and the late delete removed it.)
func TestLateShardDropAfterRevert(t *testing.T) {
	for _, dest := range []string{"mem", "file"} {
		t.Run(dest, func(t *testing.T) {
			tb := setup(t, manyFiles(60))
			if dest == "file" {
				tb.url = "file://" + t.TempDir() + "/"
				tb.b = openBucket(t, tb.url)
			}
			tb.run(t, sharded)
			r1 := rootShards(t, tb)

			tb.src.set("d00/f0010-added.txt", "added by run A") // run A
			if s := tb.run(t, sharded); s.New != 1 {
				t.Fatalf("run A: %+v", s)
			}
			r2 := rootShards(t, tb)

			delete(tb.src.files, "d00/f0010-added.txt") // run B: back as it was
			if s := tb.run(t, sharded); s.Deleted != 1 {
				t.Fatalf("run B: %+v", s)
			}
			r3 := rootShards(t, tb)
			if len(r3) != len(r1) {
				t.Fatalf("run B's root names %d shards, run 1's %d: the revert did not restore the shards", len(r3), len(r1))
			}

			lateDrop(t, tb.url, r1, r2) // run A's delete, late
			if _, err := ReadManifest(context.Background(), tb.b, DefaultManifestKey); err != nil {
				t.Fatalf("after run A's late delete the manifest cannot be read: %v", err)
			}
			checkShards(t, tb.b, false)
			if s := tb.run(t, sharded); !s.UpToDate {
				t.Fatalf("next run not up to date: %+v", s)
			}
			checkManifestTrue(t, tb.url)
			sameFiles(t, storeFilesOf(t, tb), sourceFiles(tb.src))
		})
	}
}

// The same on the git delta path (manifestdelta.go), which reuses shards
// by name.
func TestDeltaLateShardDropAfterRevert(t *testing.T) {
	r, url, tree := deltaFixture(t, 120)
	b := openBucket(t, url)
	shardsNow := func() []ShardRef {
		m, err := ReadManifest(context.Background(), b, DefaultManifestKey)
		if err != nil {
			t.Fatal(err)
		}
		return m.Shards
	}
	r1 := shardsNow()
	tree2 := r.change(t, tree, map[string]string{"d00/f0010-added.txt": "added by run A"}, nil, nil)
	s, err := r.tryRun(t, url, nil)
	if err != nil {
		t.Fatalf("run A: %v", err)
	}
	mustDelta(t, s, "run A")
	r2 := shardsNow()
	tree3 := r.change(t, tree2, nil, []string{"d00/f0010-added.txt"}, nil)
	if s, err = r.tryRun(t, url, nil); err != nil {
		t.Fatalf("run B: %v", err)
	}
	mustDelta(t, s, "run B")

	lateDrop(t, url, r1, r2)
	if _, err := ReadManifest(context.Background(), b, DefaultManifestKey); err != nil {
		t.Fatalf("after run A's late delete the manifest cannot be read: %v", err)
	}
	if s, err = r.tryRun(t, url, nil); err != nil || !s.UpToDate {
		t.Fatalf("next run: %v, %+v; want up to date", err, s)
	}
	checkConverged(t, url, tree3)
}

// The collector (collectShards) races a commit: between its check of the
// root and its delete, another run commits a root whose shard holds the
// very entries of an old unnamed shard the collector is deleting (run A's
// replaced shard, whose delete failed, brought back by a revert). The
// collector must not remove a shard that root names.
func TestShardCollectorRacedByCommit(t *testing.T) {
	for _, dest := range []string{"mem", "file"} {
		t.Run(dest, func(t *testing.T) {
			tb := setup(t, manyFiles(60))
			if dest == "file" {
				tb.url = "file://" + t.TempDir() + "/"
				tb.b = openBucket(t, tb.url)
			}
			ctx := context.Background()
			tb.run(t, sharded)
			saved := map[string][]byte{}
			for _, r := range rootShards(t, tb) {
				k := shardKey(DefaultManifestKey, r.Name)
				body, _, err := tb.b.Read(ctx, k)
				if err != nil {
					t.Fatal(err)
				}
				saved[k] = body
			}

			tb.src.set("d00/f0010-added.txt", "added by run A") // run A
			tb.run(t, sharded)
			garbage := 0
			for k, body := range saved { // run A's delete of what it replaced failed
				if _, err := tb.b.Stat(ctx, k); err != nil {
					tb.put(t, k, string(body))
					garbage++
				}
			}
			if garbage == 0 {
				t.Fatal("run A replaced no shard: the test proves nothing")
			}
			time.Sleep(20 * time.Millisecond) // the garbage ages past the 10 ms grace below

			// Run C changes another file and collects; run B, the revert,
			// commits between C's check of the root and its delete.
			tb.src.set("d01/f0055.txt", "changed by run C")
			raced := false
			tb.run(t, func(o *Options) {
				sharded(o)
				o.shardGraceOverride = 10 * time.Millisecond
				o.beforeShardGC = func() {
					raced = true
					delete(tb.src.files, "d00/f0010-added.txt")
					if s, err := tb.tryRun(t, sharded); err != nil || s.Deleted != 1 {
						t.Errorf("run B: %v, %+v", err, s)
					}
				}
			})
			if !raced {
				t.Fatal("run C's collector found nothing to delete: the test proves nothing")
			}
			if _, err := ReadManifest(ctx, tb.b, DefaultManifestKey); err != nil {
				t.Fatalf("after run C's collection the manifest cannot be read: %v", err)
			}
			checkShards(t, tb.b, false)
			if s := tb.run(t, sharded); !s.UpToDate {
				t.Fatalf("next run not up to date: %+v", s)
			}
			checkManifestTrue(t, tb.url)
			sameFiles(t, storeFilesOf(t, tb), sourceFiles(tb.src))
		})
	}
}

// Names: a write names a new shard SUM-NONCE with one nonce, reuses the
// name the replaced root gives a shard of the same content, and the
// collector's pattern matches both forms and nothing else.
func TestShardNames(t *testing.T) {
	old := strings.Repeat("a", 32)
	n, err := newShardNamer([]ShardRef{{Name: old}})
	if err != nil {
		t.Fatal(err)
	}
	if name, up := n.name(old); name != old || up {
		t.Fatalf("content of a named shard: %s, upload %v; want %s, no upload", name, up, old)
	}
	sum := strings.Repeat("b", 32)
	name, up := n.name(sum)
	if !up || !strings.HasPrefix(name, sum+"-") || shardSum(name) != sum || !shardFile.MatchString(name+".json.gz") {
		t.Fatalf("new content: %s, upload %v", name, up)
	}
	if again, up := n.name(sum); again != name || up {
		t.Fatalf("same content twice in one write: %s, upload %v; want %s, no upload", again, up, name)
	}
	n2, err := newShardNamer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if other, _ := n2.name(sum); other == name {
		t.Fatalf("two writes named the same content %s alike", other)
	}
	for _, f := range []string{old + ".json.gz", name + ".json.gz"} {
		if !shardFile.MatchString(f) {
			t.Errorf("%s: not matched as a shard", f)
		}
	}
	for _, f := range []string{"notes.txt", old + "-x.json.gz", old + ".json", name + "0.json.gz"} {
		if shardFile.MatchString(f) {
			t.Errorf("%s: matched as a shard", f)
		}
	}
}

// A root written before names had a nonce (shards named by content alone)
// is read as it is: the next run is up to date, and a change rewrites only
// the shard holding it, under a new name, keeping every other old name;
// the replaced old name is deleted, no named one.
func TestShardNamesOfOlderRootsKept(t *testing.T) {
	tb := setup(t, manyFiles(60))
	tb.run(t, sharded)
	ctx := context.Background()
	m := checkShardsNamed(t, tb.b)
	var root Manifest
	data, _, err := tb.b.Read(ctx, DefaultManifestKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	for i, r := range root.Shards { // as an older build named them
		from, to := shardKey(DefaultManifestKey, r.Name), shardKey(DefaultManifestKey, shardSum(r.Name))
		if from == to {
			t.Fatalf("shard %s has no nonce", r.Name)
		}
		body, _, err := tb.b.Read(ctx, from)
		if err != nil {
			t.Fatal(err)
		}
		tb.put(t, to, string(body))
		if err := tb.b.Delete(ctx, []string{from}); err != nil {
			t.Fatal(err)
		}
		root.Shards[i].Name = shardSum(r.Name)
	}
	if data, err = json.Marshal(root); err != nil {
		t.Fatal(err)
	}
	tb.put(t, DefaultManifestKey, string(data))
	if old := checkShardsNamed(t, tb.b); len(old.Objects) != len(m.Objects) {
		t.Fatalf("the older root reads %d objects, want %d", len(old.Objects), len(m.Objects))
	}
	if s := tb.run(t, sharded); !s.UpToDate {
		t.Fatalf("run on the older root not up to date: %+v", s)
	}

	tb.src.set("d00/f0010.txt", "changed")
	if s := tb.run(t, sharded); s.Modified != 1 {
		t.Fatalf("change: %+v", s)
	}
	after := checkShardsNamed(t, tb.b)
	kept := map[string]bool{}
	for _, r := range after.Shards {
		kept[r.Name] = true
	}
	var reused, fresh int
	for _, r := range root.Shards {
		if kept[r.Name] {
			reused++
		}
	}
	for _, r := range after.Shards {
		if shardSum(r.Name) != r.Name {
			fresh++
		}
	}
	if fresh != 1 || reused != len(root.Shards)-1 {
		t.Fatalf("after a one-file change: %d new names, %d of %d older names kept; want 1 new, all but one kept", fresh, reused, len(root.Shards))
	}
	checkManifestTrue(t, tb.url)
}
