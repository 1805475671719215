package reposync

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/reposync/source"
)

// garbageShards returns the shard keys in the store that the manifest does
// not name (failing the test if a named one is missing).
func garbageShards(t *testing.T, tb *bundle) []string {
	t.Helper()
	m := checkShards(t, tb.b, false)
	named := map[string]bool{}
	for _, r := range m.Shards {
		named[shardKey(DefaultManifestKey, r.Name)] = true
	}
	var out []string
	for _, k := range shardKeys(t, tb.b) {
		if !named[k] && shardFile.MatchString(strings.TrimPrefix(k, DefaultManifestKey+".d/")) {
			out = append(out, k)
		}
	}
	return out
}

// Shards left by a run that lost the race for the root, and by a run that
// stopped between writing its shards and its root, are deleted by a later
// committing run once they are older than the grace period; younger ones
// (a concurrent run's, about to be named) are kept, a shard the root names
// is never deleted, and nothing else under MANIFEST.d/ is touched (issue 20).
func TestShardGarbageCollectedAfterGracePeriod(t *testing.T) {
	for _, dest := range []string{"mem", "file"} {
		t.Run(dest, func(t *testing.T) {
			tb := setup(t, manyFiles(60))
			if dest == "file" {
				tb.url = "file://" + t.TempDir() + "/"
				tb.b = openBucket(t, tb.url)
			}
			tb.run(t, sharded)

			// Two overlapping runs: the inner one commits, the outer one
			// loses after writing its shards. (The inner one runs once the
			// outer one has uploaded: before, it would rewrite the outer
			// one's keys, and the outer one would stop at its first fenced
			// upload, writing no shard.)
			tb.src.set("d00/f0001.txt", "changed by both")
			tb.src.set("d01/f0055.txt", "changed by both")
			rs := &raceAfterFetch{memSource: tb.src}
			rs.inner = func() {
				tb.src.set("d00/f0002.txt", "changed by the inner run") // its shard then differs from the outer run's
				if _, err := tb.tryRun(t, sharded); err != nil {
					t.Errorf("inner run: %v", err)
				}
			}
			if _, err := tb.tryRun(t, func(o *Options) { sharded(o); o.Source = rs }); !errors.Is(err, ErrConcurrentRun) {
				t.Fatalf("outer run: want ErrConcurrentRun, got %v", err)
			}
			raced := garbageShards(t, tb)
			if len(raced) == 0 {
				t.Fatal("the losing run left no unnamed shard: the test proves nothing")
			}
			// A run killed after writing a shard, and a file that is no shard.
			ctx := context.Background()
			name, body, err := encodeShard([]ManifestObject{{Path: "gone.txt", Key: "gone.txt", Blob: "b", Size: 1, ETag: "e"}})
			if err != nil {
				t.Fatal(err)
			}
			tb.put(t, shardKey(DefaultManifestKey, name), string(body))
			notShard := DefaultManifestKey + ".d/notes.txt"
			tb.put(t, notShard, "not a shard")
			garbage := garbageShards(t, tb)
			if len(garbage) != len(raced)+1 {
				t.Fatalf("%d unnamed shards, want %d", len(garbage), len(raced)+1)
			}

			// Within the grace period (the default, an hour) a committing
			// run keeps them: they could be a run's in progress.
			tb.src.set("d00/f0002.txt", "second change")
			tb.run(t, sharded)
			if got := garbageShards(t, tb); len(got) != len(garbage) {
				t.Fatalf("a run within the grace period left %d of the %d unnamed shards: %v", len(got), len(garbage), got)
			}
			checkManifestTrue(t, tb.url)

			// Once older than the grace period, the next committing run
			// deletes every unnamed shard and nothing the root names.
			time.Sleep(20 * time.Millisecond)
			tb.src.set("d00/f0003.txt", "third change")
			s := tb.run(t, func(o *Options) { sharded(o); o.shardGraceOverride = 10 * time.Millisecond })
			if s.Modified != 1 {
				t.Fatalf("third run: %+v", s)
			}
			if got := garbageShards(t, tb); len(got) != 0 {
				t.Fatalf("after the grace period %d unnamed shards are left: %v", len(got), got)
			}
			checkManifestTrue(t, tb.url)
			if body, _, err := tb.b.Read(ctx, notShard); err != nil || string(body) != "not a shard" {
				t.Fatalf("%s: %q, %v; want it left alone", notShard, body, err)
			}
			sameFiles(t, storeFilesOf(t, tb), sourceFiles(tb.src))
		})
	}
}

// An up-to-date run writes and lists nothing, so it collects nothing: the
// no-change path stays one read of the root.
func TestShardCollectionOnlyOnCommit(t *testing.T) {
	tb := setup(t, manyFiles(60))
	tb.run(t, sharded)
	s := tb.run(t, func(o *Options) { sharded(o); o.shardGraceOverride = -1 })
	if !s.UpToDate || s.StoreRequests["list"] != 0 || s.StoreRequests["get"] != 1 {
		t.Fatalf("no-change run: up to date %v, requests %v", s.UpToDate, s.StoreRequests)
	}
}

// raceAfterFetch runs a whole other sync once the outer one has fetched
// and uploaded everything.
type raceAfterFetch struct {
	*memSource
	inner func()
	once  bool
}

func (r *raceAfterFetch) Fetch(ctx context.Context, es []source.Entry, c int, fn source.FetchFunc) error {
	err := r.memSource.Fetch(ctx, es, c, fn)
	if !r.once {
		r.once = true
		r.inner()
	}
	return err
}
