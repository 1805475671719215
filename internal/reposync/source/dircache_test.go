package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Issue 20: DirOptions.CacheBytes bounds the memory the small-file cache
// takes, not only the content it keeps: each kept file costs a map entry
// and allocation rounding beside its bytes (119 bytes a file measured
// here). Of 5,000 files of 16 bytes, a 256 KB cache kept all 5,000 (80 KB
// of content, ~1.3 MB held); it must keep at most one per 16+100 bytes.
func TestDirCacheBoundedByMemory(t *testing.T) {
	const n, bound = 5000, 256 << 10
	root := t.TempDir()
	for i := range n {
		p := filepath.Join(root, fmt.Sprintf("d%02d", i/500), fmt.Sprintf("f%05d.txt", i))
		if i%500 == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(p, fmt.Appendf(nil, "sixteen b %05d\n", i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d := NewDir(root, DirOptions{CacheBytes: bound, Hashers: 2})
	if _, err := d.Resolve(context.Background(), Hint{}); err != nil {
		t.Fatal(err)
	}
	kept := len(d.cache)
	if kept == 0 || kept > bound/(16+100) {
		t.Errorf("a cache of %d bytes kept %d files of 16 bytes, want 1 to %d", bound, kept, bound/(16+100))
	}
}
