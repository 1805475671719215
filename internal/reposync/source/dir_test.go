package source

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDirListing(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	writeFixtureFile(t, outside, "secret.txt", "do not walk me", 0o644)
	writeFixtureFile(t, root, "b.txt", "bee\n", 0o644)
	writeFixtureFile(t, root, "a/z.txt", "zed\n", 0o644)
	writeFixtureFile(t, root, "a.txt", "hello\n", 0o644)
	writeFixtureFile(t, root, "tool.sh", "#!/bin/sh\n", 0o755)
	writeFixtureFile(t, root, ".git/config", "[core]\n", 0o644)
	writeFixtureFile(t, root, "vendor/mod/.git", "gitdir: elsewhere\n", 0o644)
	if err := os.Symlink(outside, filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}

	d := NewDir(root, DirOptions{Hashers: 3})
	if got := d.String(); got != "dir:"+root {
		t.Errorf("String() = %q", got)
	}
	rev, err := d.Resolve(context.Background(), Hint{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Path: "a.txt", Mode: ModeFile, Size: 6, Blob: mustParseBlob("ce013625030ba8dba906f756967f9e9ca394464a")},
		{Path: "a/z.txt", Mode: ModeFile, Size: 4, Blob: BlobOf([]byte("zed\n"))},
		{Path: "b.txt", Mode: ModeFile, Size: 4, Blob: BlobOf([]byte("bee\n"))},
		{Path: "out", Mode: ModeSymlink, Size: int64(len(outside)), Blob: BlobOf([]byte(outside)), Target: outside},
		{Path: "tool.sh", Mode: ModeExec, Size: 10, Blob: BlobOf([]byte("#!/bin/sh\n"))},
	}
	entries := mustList(t, d)
	if diff := cmp.Diff(want, entries); diff != "" {
		t.Errorf("listing (-want +got):\n%s", diff)
	}
	if rev.Commit != ListingDigest(want) || len(rev.Commit) != 64 {
		t.Errorf("commit %q is not the listing digest", rev.Commit)
	}

	// Unchanged folder: same digest, NotModified.
	rev2, err := NewDir(root, DirOptions{}).Resolve(context.Background(), Hint{Commit: rev.Commit})
	if err != nil || !rev2.NotModified || rev2.Commit != rev.Commit {
		t.Errorf("unchanged: %+v, %v", rev2, err)
	}
	// A change (here only the exec bit) changes the digest.
	if err := os.Chmod(filepath.Join(root, "b.txt"), 0o755); err != nil {
		t.Fatal(err)
	}
	rev3, err := NewDir(root, DirOptions{}).Resolve(context.Background(), Hint{Commit: rev.Commit})
	if err != nil || rev3.NotModified || rev3.Commit == rev.Commit {
		t.Errorf("after chmod: %+v, %v", rev3, err)
	}

	got, peak := fetchAll(t, d, entries, 2)
	if got["a.txt"] != "hello\n" || got["out"] != outside || got["tool.sh"] != "#!/bin/sh\n" {
		t.Errorf("fetched %v", got)
	}
	if peak > 2 {
		t.Errorf("peak concurrency %d > 2", peak)
	}
}

func TestDirFetchDetectsChange(t *testing.T) {
	root := t.TempDir()
	writeFixtureFile(t, root, "f.txt", "version one\n", 0o644)
	d := NewDir(root, DirOptions{CacheBytes: -1}) // nothing kept: Fetch reads the file again
	if _, err := d.Resolve(context.Background(), Hint{}); err != nil {
		t.Fatal(err)
	}
	entries := mustList(t, d)
	writeFixtureFile(t, root, "f.txt", "version two\n", 0o644) // same size
	err := d.Fetch(context.Background(), entries, 1, func(ctx context.Context, e Entry, r io.Reader) error {
		_, err := io.ReadAll(r)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "f.txt") || !strings.Contains(err.Error(), "changed") {
		t.Errorf("err = %v, want a changed-since-listing error naming f.txt", err)
	}
	os.Remove(filepath.Join(root, "f.txt"))
	err = d.Fetch(context.Background(), entries, 1, func(ctx context.Context, e Entry, r io.Reader) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "f.txt") {
		t.Errorf("missing file: err = %v", err)
	}
}

// TestDirFetchOpensSmallFilesOnce: the content of small files read while
// listing is what Fetch serves (the files are not opened again, so removing
// or changing them after listing does not matter), within the cache budget;
// a file over the per-file limit, or beyond the budget, is read again.
func TestDirFetchOpensSmallFilesOnce(t *testing.T) {
	root := t.TempDir()
	big := strings.Repeat("B", maxCachedFile+1)
	writeFixtureFile(t, root, "a.txt", "alpha\n", 0o644)
	writeFixtureFile(t, root, "b.txt", "bravo\n", 0o644)
	writeFixtureFile(t, root, "big.bin", big, 0o644)
	d := NewDir(root, DirOptions{CacheBytes: 6 + cachedCost, Hashers: 1}) // room for one of a.txt, b.txt
	if _, err := d.Resolve(context.Background(), Hint{}); err != nil {
		t.Fatal(err)
	}
	entries := mustList(t, d)
	var cachedPath, otherPath string
	for _, p := range []string{"a.txt", "b.txt"} {
		if _, ok := d.cache[p]; ok {
			cachedPath = p
		} else {
			otherPath = p
		}
	}
	if cachedPath == "" || otherPath == "" || len(d.cache) != 1 {
		t.Fatalf("cache holds %d files (%q), want exactly one of a.txt and b.txt within 6 bytes", len(d.cache), cachedPath)
	}
	want := map[string]string{cachedPath: map[string]string{"a.txt": "alpha\n", "b.txt": "bravo\n"}[cachedPath]}
	for _, p := range []string{cachedPath, otherPath, "big.bin"} {
		if err := os.Remove(filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]string{}
	fetch := func(es []Entry) error {
		return d.Fetch(context.Background(), es, 1, func(ctx context.Context, e Entry, r io.Reader) error {
			b, err := io.ReadAll(r)
			got[e.Path] = string(b)
			return err
		})
	}
	var cachedEntry []Entry
	for _, e := range entries {
		if e.Path == cachedPath {
			cachedEntry = append(cachedEntry, e)
		}
	}
	if err := fetch(cachedEntry); err != nil {
		t.Fatalf("fetch of the kept file after removing it: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fetched (-want +got):\n%s", diff)
	}
	// Served once: the cache no longer holds it, and the removed file is gone.
	if err := fetch(cachedEntry); err == nil || !strings.Contains(err.Error(), cachedPath) {
		t.Errorf("second fetch of %s: err = %v, want the missing file's error", cachedPath, err)
	}
	for _, e := range entries {
		if e.Path == otherPath || e.Path == "big.bin" {
			if err := fetch([]Entry{e}); err == nil || !strings.Contains(err.Error(), e.Path) {
				t.Errorf("fetch of %s (not kept) after removing it: err = %v, want an error naming it", e.Path, err)
			}
		}
	}
}

// TestDirNotModifiedDropsCache: when the folder is unchanged the kept content
// is released at once, and a Fetch still works by reading the files.
func TestDirNotModifiedDropsCache(t *testing.T) {
	root := t.TempDir()
	writeFixtureFile(t, root, "a.txt", "alpha\n", 0o644)
	rev, err := NewDir(root, DirOptions{}).Resolve(context.Background(), Hint{})
	if err != nil {
		t.Fatal(err)
	}
	d := NewDir(root, DirOptions{})
	rev2, err := d.Resolve(context.Background(), Hint{Commit: rev.Commit})
	if err != nil || !rev2.NotModified {
		t.Fatalf("unchanged folder: %+v, %v", rev2, err)
	}
	if len(d.cache) != 0 {
		t.Errorf("an unchanged folder still keeps %d files' content", len(d.cache))
	}
	err = d.Fetch(context.Background(), mustList(t, d), 1, func(ctx context.Context, e Entry, r io.Reader) error {
		b, err := io.ReadAll(r)
		if err == nil && string(b) != "alpha\n" {
			err = fmt.Errorf("read %q", b)
		}
		return err
	})
	if err != nil {
		t.Errorf("fetch after a not-modified resolve: %v", err)
	}
}

func TestDirErrors(t *testing.T) {
	if _, err := NewDir(filepath.Join(t.TempDir(), "nope"), DirOptions{}).Resolve(context.Background(), Hint{}); err == nil {
		t.Error("missing folder resolved")
	}
	if os.Geteuid() != 0 { // root reads everything
		root := t.TempDir()
		writeFixtureFile(t, root, "locked.txt", "x", 0o000)
		_, err := NewDir(root, DirOptions{}).Resolve(context.Background(), Hint{})
		if err == nil || !strings.Contains(err.Error(), "locked.txt") {
			t.Errorf("unreadable file: err = %v", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	root := t.TempDir()
	writeFixtureFile(t, root, "a", "a", 0o644)
	if _, err := NewDir(root, DirOptions{}).Resolve(ctx, Hint{}); err == nil {
		t.Error("cancelled context: no error")
	}
}

// TestDirGOROOTTiming measures listing $(go env GOROOT)/src. It is slow on
// purpose, so it only runs with GHSYNC_MEASURE=1.
func TestDirGOROOTTiming(t *testing.T) {
	if os.Getenv("GHSYNC_MEASURE") == "" {
		t.Skip("set GHSYNC_MEASURE=1 to measure")
	}
	src := filepath.Join(runtime.GOROOT(), "src")
	start := time.Now()
	d := NewDir(src, DirOptions{})
	if _, err := d.Resolve(context.Background(), Hint{}); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	entries := mustList(t, d)
	var total int64
	for _, e := range entries {
		total += e.Size
	}
	msg := fmt.Sprintf("%d entries, %.1f MB hashed in %v with %d hashers", len(entries), float64(total)/1e6, elapsed, runtime.NumCPU())
	t.Log(msg)
}

// The listing records a file's modification time only when it is older than
// racyWindow, and takes the blob from the record (without reading) only when
// size and time match it; with Checksum it always reads.
func TestDirKnownSizeAndTime(t *testing.T) {
	root := t.TempDir()
	for name, body := range map[string]string{"old.txt": "old", "new.txt": "new"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(root, "old.txt"), old, old); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	list := func(d *Dir) map[string]Entry {
		t.Helper()
		if _, err := d.Resolve(ctx, Hint{}); err != nil {
			t.Fatal(err)
		}
		es, err := d.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]Entry{}
		for _, e := range es {
			out[e.Path] = e
		}
		return out
	}
	first := list(NewDir(root, DirOptions{}))
	if first["old.txt"].MTime != old.UnixNano() || first["new.txt"].MTime != 0 {
		t.Fatalf("mtimes recorded: old %d (want %d), new %d (want 0: too recent to trust)", first["old.txt"].MTime, old.UnixNano(), first["new.txt"].MTime)
	}
	// A record whose blob differs from the content: used only when trusted.
	fake := "0123456789012345678901234567890123456789"
	known := func(p string) (Known, bool) {
		e := first[p]
		return Known{Size: e.Size, MTime: e.MTime, Blob: fake}, true
	}
	d := NewDir(root, DirOptions{})
	d.UseKnown(known)
	got := list(d)
	if !got["old.txt"].Blob.Is(fake) || got["new.txt"].Blob != first["new.txt"].Blob {
		t.Fatalf("with the record: old %s (want the record's), new %s (want read)", got["old.txt"].Blob, got["new.txt"].Blob)
	}
	d = NewDir(root, DirOptions{Checksum: true})
	d.UseKnown(known)
	if got := list(d); got["old.txt"].Blob != first["old.txt"].Blob {
		t.Fatalf("with Checksum the record was used: %s", got["old.txt"].Blob)
	}
	// A record whose blob is not a git blob SHA-1 (upper case, an asset,
	// garbage) is not used: the file is read, the listing does not fail.
	for _, bad := range []string{"ABCDEF" + fake[6:], "asset-1-6", "not a sha"} {
		d = NewDir(root, DirOptions{})
		d.UseKnown(func(p string) (Known, bool) {
			e := first[p]
			return Known{Size: e.Size, MTime: e.MTime, Blob: bad}, true
		})
		if got := list(d); got["old.txt"].Blob != first["old.txt"].Blob {
			t.Fatalf("record blob %q: listed %s, want the content's %s", bad, got["old.txt"].Blob, first["old.txt"].Blob)
		}
	}
}
