package reposync

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// TestMemoryProfileHarness is a measuring tool, not a check: with
// GHSYNC_MEMPROF_TREE (a folder) and GHSYNC_MEMPROF_DEST (a store URL) set
// it runs one sync as `ghsync sync` does and writes, to
// GHSYNC_MEMPROF_OUT (default heap-peak.pprof), the heap profile taken
// right after the garbage collection that found the largest live heap, and
// logs that heap. Skipped without the variables.
//
//	GHSYNC_MEMPROF_TREE=~/.cache/ghsync-bench/scale-100000/tree \
//	GHSYNC_MEMPROF_DEST='file:///tmp/out?metadata=skip' \
//	go test -run MemoryProfileHarness -v ./internal/reposync/
//	go tool pprof -sample_index=inuse_space -top heap-peak.pprof
func TestMemoryProfileHarness(t *testing.T) {
	tree, dest := os.Getenv("GHSYNC_MEMPROF_TREE"), os.Getenv("GHSYNC_MEMPROF_DEST")
	if tree == "" || dest == "" {
		t.Skip("set GHSYNC_MEMPROF_TREE and GHSYNC_MEMPROF_DEST to measure")
	}
	out := os.Getenv("GHSYNC_MEMPROF_OUT")
	if out == "" {
		out = "heap-peak.pprof"
	}
	ctx := context.Background()
	b, err := store.Open(ctx, dest, store.Options{PartSize: 5 << 20, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
		var peak, lastCycle uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
			metrics.Read(s)
			live, cycle := s[0].Value.Uint64(), s[1].Value.Uint64()
			if cycle != lastCycle && live > peak+peak/50 {
				lastCycle = cycle
				peak = live
				f, err := os.Create(out)
				if err == nil {
					_ = pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
			}
		}
	}()
	runtime.MemProfileRate = 4096
	sum, err := Run(ctx, Options{Source: source.NewDir(tree, source.DirOptions{}), Bucket: b, Concurrency: DefaultConcurrency})
	close(stop)
	peak := <-done
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("new %d unchanged %d; peak live heap after a GC %.1f MB; HeapSys %.1f MB; profile %s",
		sum.New, sum.Unchanged, float64(peak)/1e6, float64(ms.HeapSys)/1e6, out)
}
