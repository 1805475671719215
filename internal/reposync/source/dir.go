package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ghsync/ghsync/internal/osfile"
)

// DirOptions configure a Dir source.
type DirOptions struct {
	// Logger receives warnings (skipped special files); nil discards them.
	Logger *slog.Logger
	// Hashers is how many files are hashed at once while listing; 0 means
	// runtime.NumCPU().
	Hashers int
	// Checksum hashes every file, even one whose size and modification
	// time match what the last run recorded (see Dir.UseKnown).
	Checksum bool
	// CacheBytes bounds the memory taken by the content of small files (at
	// most 64 KiB each; with cachedCost bytes of bookkeeping each) kept in
	// memory from listing until Fetch, so that such a file is opened
	// and read once per run, not once to hash and again to upload. 0 means
	// DefaultDirCache; a negative value keeps nothing.
	CacheBytes int64
}

// DefaultDirCache is the default DirOptions.CacheBytes: the content of
// 10,000 files of 400 bytes, or of a few hundred source files.
const DefaultDirCache = 4 << 20

// maxCachedFile is the largest file whose content the listing keeps.
const maxCachedFile = 64 << 10

// cached is the content of a small file as it was hashed.
type cached struct {
	blob Blob
	data []byte
}

// Dir is a plain folder taken as it is. Symlinks are reported, never
// followed; any entry named ".git" (a checkout's directory or a worktree's
// gitfile) is skipped; sockets, devices and fifos are skipped with a warning.
// The revision is a SHA-256 digest of the listing, so an unchanged folder
// resolves to the same commit.
type Dir struct {
	root string
	opts DirOptions
	log  *slog.Logger

	mu         sync.Mutex
	entries    []Entry           // set by Resolve
	cache      map[string]cached // by path: small files' content read while hashing
	room       int64             // bytes the cache may still take (under mu)
	known      func(path string) (Known, bool)
	unreadable []Unreadable
}

// Known is what the last run recorded about a file: its size, modification
// time (Unix nanoseconds) and blob SHA.
type Known struct {
	Size, MTime int64
	Blob        string
}

// StatCache is implemented by sources that can take a file's blob SHA from
// the last run's record when its size and modification time still match,
// instead of reading it (as rclone does without --checksum).
type StatCache interface {
	// UseKnown gives the source the last run's record; call it before
	// Resolve. known returns false for paths it has nothing (usable) for.
	UseKnown(known func(path string) (Known, bool))
}

// Unreadable is a file (or, with Dir set, a folder) a source could not read.
type Unreadable struct {
	Path string
	Dir  bool
	Err  string
}

// UnreadableReporter is implemented by sources that leave out files they
// cannot read instead of failing; the caller mirrors the rest, keeps what
// the destination holds for these, and reports them.
type UnreadableReporter interface {
	Unreadable() []Unreadable
}

// racyWindow is how recent a modification time must not be for a file's
// size and time to be trusted by the next run: a file written again within
// the timestamp's granularity after it was hashed could keep both.
const racyWindow = 2 * time.Second

// UseKnown implements StatCache; it does nothing with DirOptions.Checksum.
func (d *Dir) UseKnown(known func(path string) (Known, bool)) {
	if d.opts.Checksum {
		return
	}
	d.mu.Lock()
	d.known = known
	d.mu.Unlock()
}

// Unreadable implements UnreadableReporter: the files and folders the last
// listing could not read (left out of it), sorted by path.
func (d *Dir) Unreadable() []Unreadable {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.unreadable)
}

// skipUnreadable records a file or folder the walk could not read.
func (d *Dir) skipUnreadable(rel string, dir bool, err error) {
	d.log.Warn("cannot read, leaving it out", "path", rel, "error", err.Error())
	d.mu.Lock()
	d.unreadable = append(d.unreadable, Unreadable{Path: rel, Dir: dir, Err: err.Error()})
	d.mu.Unlock()
}

// NewDir returns a source for the folder at root.
func NewDir(root string, opts DirOptions) *Dir {
	if opts.Hashers <= 0 {
		opts.Hashers = runtime.NumCPU()
	}
	if opts.CacheBytes == 0 {
		opts.CacheBytes = DefaultDirCache
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dir{root: root, opts: opts, log: log}
}

// String returns "dir:" and the root.
func (d *Dir) String() string { return "dir:" + d.root }

// Resolve lists and hashes the folder and returns the listing digest as
// Revision.Commit; NotModified is true when it equals hint.Commit. (A folder
// cannot tell cheaply, so it always reads every file.)
func (d *Dir) Resolve(ctx context.Context, hint Hint) (Revision, error) {
	entries, err := d.walk(ctx)
	if err != nil {
		return Revision{}, err
	}
	d.mu.Lock()
	d.entries = entries
	d.mu.Unlock()
	commit := ListingDigest(entries)
	notModified := hint.Commit != "" && hint.Commit == commit
	if notModified {
		// Nothing is likely to be fetched: free the kept content now (a
		// Fetch after all reads the files again).
		d.mu.Lock()
		d.cache = nil
		d.mu.Unlock()
	}
	return Revision{Commit: commit, NotModified: notModified}, nil
}

// List returns the listing made by Resolve (or makes one), sorted by Path.
// The slice is shared with the source (not copied: at 1,000,000 files a copy
// is ~130 MB); callers must not modify it.
func (d *Dir) List(ctx context.Context) ([]Entry, error) {
	d.mu.Lock()
	entries := d.entries
	d.mu.Unlock()
	if entries == nil {
		var err error
		if entries, err = d.walk(ctx); err != nil {
			return nil, err
		}
		d.mu.Lock()
		d.entries = entries
		d.mu.Unlock()
	}
	return entries, nil
}

// ListingDigest returns the hex SHA-256 of a listing sorted by Path: of
// "MODE BLOB PATH\x00" for every entry, with the git mode in octal and
// the blob's String. Equal listings give equal digests.
func ListingDigest(entries []Entry) string {
	h := sha256.New()
	var line []byte
	for _, e := range entries {
		line = append(line[:0], e.Mode.String()...)
		line = append(line, ' ')
		line = e.Blob.AppendTo(line)
		line = append(line, ' ')
		line = append(line, e.Path...)
		h.Write(append(line, 0)) // hash writes never fail
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Fetch passes each entry's content to fn (at most concurrency at a time);
// a symlink's content is its target text. A small file whose content the
// listing kept (DirOptions.CacheBytes) is served from memory, exactly as it
// was hashed, and dropped from the cache. Any other file is opened again and
// checked against the listed size and blob SHA while fn reads it: a file
// that changed since List makes the read fail. The cache is let go when
// Fetch returns (what it still holds was not asked for; a later Fetch
// reads such files again).
func (d *Dir) Fetch(ctx context.Context, entries []Entry, concurrency int, fn FetchFunc) error {
	defer func() {
		d.mu.Lock()
		d.cache = nil
		d.mu.Unlock()
	}()
	return runBounded(ctx, entries, concurrency, func(ctx context.Context, e Entry) error {
		switch e.Mode {
		case ModeSymlink:
			return fn(ctx, e, strings.NewReader(e.Target))
		case ModeSubmodule:
			return fn(ctx, e, strings.NewReader(""))
		}
		if data, ok := d.take(e); ok {
			return fn(ctx, e, bytes.NewReader(data))
		}
		f, err := osfile.Open(filepath.Join(d.root, filepath.FromSlash(e.Path)))
		if err != nil {
			return fmt.Errorf("fetch %s: %w", e.Path, err)
		}
		defer f.Close()
		return fn(ctx, e, newVerifyingReader(f, e))
	})
}

// take removes and returns the cached content of e, if the listing kept it
// and it is the content e describes.
func (d *Dir) take(e Entry) ([]byte, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.cache[e.Path]
	if !ok || c.blob != e.Blob || int64(len(c.data)) != e.Size {
		return nil, false
	}
	delete(d.cache, e.Path)
	if len(d.cache) == 0 {
		d.cache = nil // the map's buckets too (~1 MB for the default cache of small files)
	}
	return c.data, true
}

// cachedCost is what keeping one file costs beside its content: its map
// entry (path and value headers, bucket overhead) and the rounding of
// the content to an allocation size (~96 bytes for a file of a few
// hundred). DirOptions.CacheBytes counts it, so the cache is bounded by
// the memory it takes, not by its content alone (5.3 MB held for 4 MB of
// 320-byte files otherwise).
const cachedCost = 128

// reserve takes room for a file of n bytes in the cache; false when the
// cache is full.
func (d *Dir) reserve(n int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n > maxCachedFile || n+cachedCost > d.room {
		return false
	}
	d.room -= n + cachedCost
	return true
}

// keep records the content of a hashed small file.
func (d *Dir) keep(path string, blob Blob, data []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cache[path] = cached{blob: blob, data: data}
}

// walkChunk is how many paths the walk collects per chunk (64 KiB).
const walkChunk = 4096

// entryChunks collects the paths of a listing of unknown length in
// fixed-size chunks (16 bytes a file; a symlink's target aside), turned
// once into entries in a slice of the exact size (flatten): a listing
// grown by append held its old and new arrays at once and then a trimmed
// copy (~200 MB at 1,000,000 files for a 72 MB listing), and chunks of
// whole entries held two listings while copied.
type entryChunks struct {
	paths   [][]string
	n       int
	targets map[int]string // by ordinal: the symlinks' targets
}

// add appends a regular file, to be hashed (its Size is -1 until then).
func (c *entryChunks) add(path string) {
	if k := len(c.paths); k == 0 || len(c.paths[k-1]) == cap(c.paths[k-1]) {
		c.paths = append(c.paths, make([]string, 0, walkChunk))
	}
	last := &c.paths[len(c.paths)-1]
	*last = append(*last, path)
	c.n++
}

// addLink appends a symlink with its target.
func (c *entryChunks) addLink(path, target string) {
	if c.targets == nil {
		c.targets = map[int]string{}
	}
	c.targets[c.n] = target
	c.add(path)
}

// flatten returns every entry added, in order, in one slice of exactly
// their number, releasing each chunk as it is read.
func (c *entryChunks) flatten() []Entry {
	out := make([]Entry, 0, c.n)
	for i, ch := range c.paths {
		for _, p := range ch {
			if target, ok := c.targets[len(out)]; ok {
				out = append(out, Entry{Path: p, Mode: ModeSymlink, Size: int64(len(target)), Blob: BlobOf([]byte(target)), Target: target})
			} else {
				out = append(out, Entry{Path: p, Mode: ModeFile, Size: -1})
			}
		}
		c.paths[i] = nil
	}
	*c = entryChunks{}
	return out
}

// walk lists the folder and hashes every file with d.opts.Hashers workers.
func (d *Dir) walk(ctx context.Context) ([]Entry, error) {
	root, err := filepath.EvalSymlinks(d.root)
	if err != nil {
		return nil, fmt.Errorf("dir %s: %w", d.root, err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("dir %s: %w", d.root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("dir %s: not a directory", d.root)
	}
	var chunks entryChunks
	d.mu.Lock()
	d.unreadable = nil
	d.mu.Unlock()
	err = filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			if p != root && de != nil && de.IsDir() && ctx.Err() == nil {
				if rel, rerr := filepath.Rel(root, p); rerr == nil { // a folder that cannot be listed
					d.skipUnreadable(filepath.ToSlash(rel), true, err)
					return filepath.SkipDir
				}
			}
			return fmt.Errorf("walk %s: %w", p, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return fmt.Errorf("walk %s: %w", p, err)
		}
		// Its own allocation: cut from p, the listing's path would keep the
		// whole absolute path alive for as long as the listing (issue 20).
		rel = strings.Clone(filepath.ToSlash(rel))
		t := de.Type()
		switch {
		case de.Name() == ".git":
			if de.IsDir() {
				return filepath.SkipDir
			}
			return nil
		case de.IsDir():
			return nil
		case t&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return fmt.Errorf("readlink %s: %w", rel, err)
			}
			target = filepath.ToSlash(target)
			chunks.addLink(rel, target)
		case t.IsRegular():
			chunks.add(rel)
		default:
			d.log.Warn("skipping special file", "path", rel, "type", t.String())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dir %s: %w", d.root, err)
	}
	entries := chunks.flatten()
	d.mu.Lock()
	d.cache, d.room = map[string]cached{}, max(d.opts.CacheBytes, 0)
	d.mu.Unlock()
	if err := d.hashAll(ctx, root, entries); err != nil {
		return nil, fmt.Errorf("dir %s: %w", d.root, err)
	}
	entries = slices.DeleteFunc(entries, func(e Entry) bool { return e.Size < 0 }) // unreadable: rare, the spare room stays
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	d.mu.Lock()
	slices.SortFunc(d.unreadable, func(a, b Unreadable) int { return strings.Compare(a.Path, b.Path) })
	d.mu.Unlock()
	return entries, nil
}

// hashAll fills in Size, Mode and Blob of the regular files in entries.
func (d *Dir) hashAll(ctx context.Context, root string, entries []Entry) error {
	d.mu.Lock()
	known := d.known
	d.mu.Unlock()
	trustBefore := time.Now().Add(-racyWindow).UnixNano()
	g, ctx := errgroup.WithContext(ctx)
	work := make(chan int)
	for range d.opts.Hashers {
		g.Go(func() error {
			bh := newBlobHasher(64 << 10)
			for i := range work {
				if d.statFile(root, &entries[i], known, trustBefore) {
					continue
				}
				if err := d.hashFile(ctx, root, &entries[i], bh, trustBefore); err != nil {
					if ctx.Err() != nil {
						return err
					}
					entries[i].Size = -1 // left out: walk drops it
					d.skipUnreadable(entries[i].Path, false, err)
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(work)
		for i := range entries {
			if entries[i].Mode == ModeSymlink {
				continue
			}
			select {
			case work <- i:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	return g.Wait()
}

// statFile fills in e from the last run's record when the file's size and
// modification time (one lstat) still match it and that time is not
// recent (racyWindow); false when the file must be read, as it must when
// the record's blob is not a git blob SHA-1 (ParseBlob).
func (d *Dir) statFile(root string, e *Entry, known func(string) (Known, bool), trustBefore int64) bool {
	if known == nil {
		return false
	}
	k, ok := known(e.Path)
	if !ok || k.MTime == 0 || k.MTime >= trustBefore {
		return false
	}
	blob, err := ParseBlob(k.Blob)
	if err != nil || !blob.IsSHA1() {
		return false
	}
	fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(e.Path)))
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != k.Size || fi.ModTime().UnixNano() != k.MTime {
		return false
	}
	e.Size, e.Blob, e.MTime = k.Size, blob, k.MTime
	if fi.Mode().Perm()&0o100 != 0 {
		e.Mode = ModeExec
	}
	return true
}

// hashFile opens one file, takes its size, modification time and exec bit
// from the open handle, and hashes it. A small file's content is read
// whole and kept for Fetch while the cache has room. The modification
// time is recorded (Entry.MTime) only when it is older than trustBefore.
func (d *Dir) hashFile(ctx context.Context, root string, e *Entry, bh *blobHasher, trustBefore int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := osfile.Open(filepath.Join(root, filepath.FromSlash(e.Path))) // no poller detour: see osfile
	if err != nil {
		return fmt.Errorf("open %s: %w", e.Path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", e.Path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("hash %s: %w", e.Path, errors.New("no longer a regular file"))
	}
	e.Size = fi.Size()
	if mt := fi.ModTime().UnixNano(); mt < trustBefore {
		e.MTime = mt
	}
	if fi.Mode().Perm()&0o100 != 0 {
		e.Mode = ModeExec
	}
	var r io.Reader = f
	var data []byte
	if d.reserve(e.Size) {
		data = make([]byte, e.Size)
		if _, err := io.ReadFull(f, data); err != nil {
			return fmt.Errorf("hash %s: content is shorter than the %d bytes it had when opened: %w", e.Path, e.Size, err)
		}
		// The hash reads data, then f to its end: growth is an error.
		r = io.MultiReader(bytes.NewReader(data), f)
	}
	blob, err := bh.hash(r, e.Size)
	if err != nil {
		return fmt.Errorf("hash %s: %w", e.Path, err)
	}
	e.Blob = blob
	if data != nil {
		d.keep(e.Path, blob, data)
	}
	return nil
}

// runBounded runs fn for every entry on at most concurrency worker
// goroutines (reused from entry to entry, so a deep upload stack is grown
// once per worker, not once per file) and returns the first error
// (cancelling the rest) or the parent's cancellation.
func runBounded(parent context.Context, entries []Entry, concurrency int, fn func(context.Context, Entry) error) error {
	g, ctx := errgroup.WithContext(parent)
	next := make(chan Entry)
	for range min(max(concurrency, 1), max(len(entries), 1)) {
		g.Go(func() error {
			for e := range next {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := fn(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(next)
		for _, e := range entries {
			select {
			case next <- e:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	return parent.Err()
}

var _ Source = (*Dir)(nil)
