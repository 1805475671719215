package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Issue 20: a folder's listing keeps little per file beside the Entry
// itself: the relative path on its own and the blob SHA, not the absolute
// path the walk built (which a relative path cut from it kept alive: ~190
// bytes a file at 100,000 files, more under a deep root). 4,000 files under
// a root 120 characters deep must cost at most 170 bytes each once listed
// (Entry 72 bytes and the slice's spare room, a ~16-byte path, a 40-byte
// hex SHA); cutting the paths from the absolute ones cost ~300.
func TestDirListingCompact(t *testing.T) {
	const n = 4000
	root := filepath.Join(t.TempDir(), strings.Repeat("deep-root-", 12))
	for i := range n {
		p := filepath.Join(root, fmt.Sprintf("d%02d", i/200), fmt.Sprintf("f%05d.txt", i))
		if i%200 == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(p, []byte(fmt.Sprint("body ", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d := NewDir(root, DirOptions{CacheBytes: -1}) // no content kept: only the listing is measured
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	if _, err := d.Resolve(context.Background(), Hint{}); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	held := (int64(ms.HeapAlloc) - int64(before)) / n
	entries, err := d.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != n {
		t.Fatalf("%d entries, want %d", len(entries), n)
	}
	runtime.KeepAlive(d)
	t.Logf("the listing holds %d bytes per file", held)
	if held > 170 {
		t.Errorf("the listing holds %d bytes per file, want at most 170", held)
	}
}
