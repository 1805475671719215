package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// Issue 20: a folder's listing keeps per file the Entry (72 bytes, the
// blob SHA inside it since Entry.Blob; a hex string of 48 bytes more
// before) and its relative path (16 here) and no more: not the absolute path the walk built (a relative path cut from it
// kept it alive: ~300 bytes a file under this 120-character root), nor the
// spare room append leaves in the slice (18% at 6,000 entries: 149 bytes).
func TestDirListingCompact(t *testing.T) {
	const n = 6000
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
	if held > 140 {
		t.Errorf("the listing holds %d bytes per file, want at most 140", held)
	}
}

// Issue 20: the walk collects only paths (in chunks) and makes the listing
// once, in a slice of its exact size: collecting 100,000 files and a
// symlink allocates at most 1.3× the final listing. Grown by append and
// then trimmed by a copy it allocated 6.6× (the growth steps and the
// trimmed copy) and held old and new arrays at once; chunks of whole
// entries allocated 2.0× and held two listings while copied.
func TestWalkListingAllocatedOnce(t *testing.T) {
	const n = 100_000
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("d/f%06d", i)
	}
	var c entryChunks
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	for i, p := range paths {
		if i == 500 {
			c.addLink(p, "../target")
			continue
		}
		c.add(p)
	}
	out := c.flatten()
	runtime.ReadMemStats(&ms)
	size := int64(unsafe.Sizeof(Entry{})) * n
	ratio := float64(ms.TotalAlloc-before) / float64(size)
	if len(out) != n || cap(out) != n || out[n-1].Path != paths[n-1] || out[0].Size != -1 {
		t.Fatalf("flatten: len %d cap %d, want %d entries in order", len(out), cap(out), n)
	}
	if l := out[500]; l.Mode != ModeSymlink || l.Target != "../target" || l.Size != 9 || l.Blob != BlobOf([]byte("../target")) || out[501].Mode != ModeFile {
		t.Fatalf("symlink entry %+v, next %+v", l, out[501])
	}
	t.Logf("collecting %d entries allocated %.2f× the listing", n, ratio)
	if ratio > 1.3 {
		t.Errorf("collecting %d entries allocated %.2f× the listing, want at most 1.3×", n, ratio)
	}
}
