package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// dirMemFixture writes n small files (names of 11 bytes, bodies of a few)
// under a fresh folder and returns it.
func dirMemFixture(tb testing.TB, n int) string {
	tb.Helper()
	root := tb.TempDir()
	for i := range n {
		if i%500 == 0 {
			if err := os.Mkdir(filepath.Join(root, fmt.Sprintf("d%03d", i/500)), 0o755); err != nil {
				tb.Fatal(err)
			}
		}
		p := filepath.Join(root, fmt.Sprintf("d%03d", i/500), fmt.Sprintf("f%06d", i))
		if err := os.WriteFile(p, []byte(fmt.Sprint("b", i)), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return root
}

// listDirMem lists root with a new Dir (one hasher, no content cache) and
// returns the bytes allocated and the bytes held afterwards, per entry.
func listDirMem(tb testing.TB, root string, n int) (allocated, held int64) {
	tb.Helper()
	d := NewDir(root, DirOptions{CacheBytes: -1, Hashers: 1})
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before, total := ms.HeapAlloc, ms.TotalAlloc
	if _, err := d.Resolve(context.Background(), Hint{}); err != nil {
		tb.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	allocated = int64(ms.TotalAlloc-total) / int64(n)
	held = (int64(ms.HeapAlloc) - int64(before)) / int64(n)
	entries, err := d.List(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	if len(entries) != n {
		tb.Fatalf("%d entries, want %d", len(entries), n)
	}
	runtime.KeepAlive(d)
	return allocated, held
}

// Issue 20: a Dir listing holds per file its Entry (72 bytes, the blob
// SHA-1 inside it as 20 raw bytes) and its relative path (16 bytes here),
// and no separately allocated hex string (48 bytes a file: 49 MB at a
// million; 128 bytes held before). Hashing a file allocates no hex string,
// digest or SHA-1 state either: what listing still allocates per file is
// the walk's (directory entries, paths, the open file and its FileInfo;
// 1,164 bytes before, ~900 after).
func TestDirListingMemoryPerEntry(t *testing.T) {
	const n = 4000
	root := dirMemFixture(t, n)
	allocated, held := listDirMem(t, root, n)
	t.Logf("listing %d files: %d bytes allocated, %d bytes held per file", n, allocated, held)
	if held > 96 {
		t.Errorf("the listing holds %d bytes per file, want at most 96 (Entry 72 + path 16)", held)
	}
	if allocated > 1024 {
		t.Errorf("listing allocates %d bytes per file, want at most 1024", allocated)
	}
}

// BenchmarkDirList lists a folder of 100,000 small files (setup not timed).
func BenchmarkDirList(b *testing.B) {
	const n = 100_000
	root := dirMemFixture(b, n)
	b.ResetTimer()
	for range b.N {
		allocated, held := listDirMem(b, root, n)
		b.ReportMetric(float64(allocated), "alloc-B/file")
		b.ReportMetric(float64(held), "held-B/file")
	}
}
