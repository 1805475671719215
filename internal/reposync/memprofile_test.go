package reposync

import (
	"context"
	"fmt"
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
// two collections after each one that found a larger live heap than
// before (as OUT.CYCLE: the last is about the peak), and logs the largest
// live heap. Skipped without the variables.
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
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/cycles/total:gc-cycles"},
			{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"},
			{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"},
			{Name: "/memory/classes/heap/free:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
		var held uint64 // the most memory the runtime held from the OS
		defer func() {
			t.Logf("largest mapped-and-not-released: %.1f MB", float64(held)/1e6)
		}()
		var peak, lastCycle, writeAt uint64
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
			if h := s[2].Value.Uint64() - s[3].Value.Uint64(); h > held+held/50 {
				held = h
				t.Logf("held %.1f MB: heap objects %.1f, unused in spans %.1f, free spans %.1f, stacks %.1f; live %.1f",
					float64(h)/1e6, float64(s[4].Value.Uint64())/1e6, float64(s[5].Value.Uint64())/1e6,
					float64(s[6].Value.Uint64())/1e6, float64(s[7].Value.Uint64())/1e6, float64(live)/1e6)
			}
			if cycle != lastCycle && live > peak+peak/50 {
				peak, writeAt = live, cycle+2
			}
			lastCycle = cycle
			// The heap profile is up to two cycles old: written two cycles
			// after the largest live heap, it shows (about) that heap.
			if writeAt != 0 && cycle >= writeAt {
				writeAt = 0
				if f, err := os.Create(fmt.Sprintf("%s.%d", out, cycle)); err == nil {
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
	if f, err := os.Create(out + ".end"); err == nil { // the last cycles' heap: the manifest's write
		_ = pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("new %d unchanged %d; peak live heap after a GC %.1f MB; HeapSys %.1f MB; profile %s",
		sum.New, sum.Unchanged, float64(peak)/1e6, float64(ms.HeapSys)/1e6, out)
}
