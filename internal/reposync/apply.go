package reposync

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// md5CheckLimit bounds the bytes buffered to compare an existing object's
// MD5 ETag with the source content before adopting it.
const md5CheckLimit = 8 << 20

// MetaBlob is the object metadata key holding the git blob SHA.
const MetaBlob = "ghsync-blob"

// MetaSymlink is the metadata key marking an object whose body is a link target.
const MetaSymlink = "ghsync-symlink"

// applier executes a plan and records, for each of its items (by
// Item.slot), the ETag its object got.
type applier struct {
	o      *Options
	s      *Summary
	mu     sync.Mutex
	res    *applied
	done   atomic.Int64
	total  int
	readIn atomic.Int64
	// listing is the source listing the items point into: a run of
	// uploads that is a stretch of it is fetched without a copy.
	listing []source.Entry
	fence   map[string]string // Plan.fence
}

// apply uploads, adopts and deletes as planned, returning the objects the
// new manifest must list, sorted by key (applyPlan, without the copy).
func apply(ctx context.Context, o *Options, p *Plan, s *Summary) ([]ManifestObject, error) {
	res, err := applyPlan(ctx, o, p, s)
	if err != nil {
		return nil, err
	}
	return slices.Collect(res.objects()), nil
}

// applyPlan uploads, adopts and deletes as planned. Every upload is fenced
// (fence.go). Deletes run only after every upload succeeded, except those
// blocking an upload where a key cannot be both an object and a prefix
// (blockingDeletes), which run first. The result names the objects the new manifest
// must list (applied.objects): p.Keep, which it takes over (p.Keep is nil
// afterwards), and every item of p.Adopt and p.Uploads with the ETag the
// store gave it. Those are not copied into manifest objects: at a million
// files a slice of them is ~100 MB beside the plan, which already holds
// everything but the ETags.
func applyPlan(ctx context.Context, o *Options, p *Plan, s *Summary) (*applied, error) {
	n := len(p.Adopt) + len(p.Uploads)
	res := &applied{keep: p.Keep, adopt: p.Adopt, uploads: p.Uploads, etags: newETagTable(n)}
	p.Keep = nil
	for i := range p.Adopt {
		p.Adopt[i].slot = int32(i)
	}
	for i := range p.Uploads {
		p.Uploads[i].slot = int32(len(p.Adopt) + i)
	}
	if s.recordKeys {
		s.Keys = slices.Grow(s.Keys, n+len(p.Deletes))
	}
	a := &applier{o: o, s: s, res: res, listing: p.listing, fence: p.fence}
	first, deletes := blockingDeletes(o.Bucket, p)
	if err := a.delete(ctx, first); err != nil {
		return nil, err
	}
	rest, err := a.adopt(ctx, p.Adopt)
	if err != nil {
		return nil, err
	}
	uploads := p.Uploads
	if len(rest) > 0 { // a new slice: p is not changed
		uploads = append(slices.Clip(p.Uploads), rest...)
	}
	a.total = len(uploads)
	if err := a.upload(ctx, uploads); err != nil {
		return nil, err
	}
	if err := a.delete(ctx, deletes); err != nil {
		return nil, err
	}
	if s.BytesDownloaded == 0 {
		s.BytesDownloaded = a.readIn.Load()
	}
	return res, nil
}

// delete removes keys and counts them in the summary.
func (a *applier) delete(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	if err := a.o.Bucket.Delete(ctx, keys); err != nil {
		return fmt.Errorf("delete %d objects: %w", len(keys), err)
	}
	a.s.Deleted += len(keys)
	for _, k := range keys {
		addPath(&a.s.Paths.Deleted, k)
	}
	a.s.addKeys(keys)
	return nil
}

// adopt checks objects that already exist with the right size: recorded
// blob metadata that matches is adopted at once; a plain MD5 ETag is
// compared with the content during upload; anything else is uploaded.
func (a *applier) adopt(ctx context.Context, items []Item) ([]Item, error) {
	var mu sync.Mutex
	var rest []Item
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(a.o.Concurrency)
	for _, it := range items {
		g.Go(func() error {
			obj, err := a.o.Bucket.Stat(gctx, it.Key())
			if err == nil && it.Blob().Is(obj.Metadata[MetaBlob]) && obj.Size == it.Size() {
				a.record(it, obj.ETag, true)
				return nil
			}
			if err != nil && !isNotExist(err) {
				return fmt.Errorf("check existing %s: %w", it.Key(), err)
			}
			if err == nil {
				it.setExisting(&obj)
			} else {
				it.setExisting(nil)
			}
			mu.Lock()
			rest = append(rest, it)
			mu.Unlock()
			return nil
		})
	}
	return rest, g.Wait()
}

// contentRetries is how many more times an item whose content did not match
// its listing (source.ErrContentMismatch: a body cut short without a read
// error, bytes corrupted in transit) is fetched again within a run.
const contentRetries = 2

// upload fetches the content of items from the source and writes them.
// Every body is checked against its listed entry (source.Verify) while the
// store reads it, so a short or wrong body fails the Put and is never
// recorded; such items are fetched again, up to contentRetries times, after
// the others. Items sharing one content entry (followed symlinks) go in
// later rounds. The content entries are looked up by path in a slice sorted
// by path (no per-item map).
func (a *applier) upload(ctx context.Context, items []Item) error {
	tries := map[string]int{} // key → content mismatches so far
	for len(items) > 0 {
		if !slices.IsSortedFunc(items, byContentPath) {
			items = slices.Clone(items)
			slices.SortStableFunc(items, byContentPath)
		}
		round, later := items, []Item(nil) // round: one item per content entry
		for i := 1; i < len(items); i++ {
			if items[i].Content.Path == items[i-1].Content.Path {
				round, later = nil, nil
				break
			}
		}
		if round == nil {
			for i, it := range items {
				if i > 0 && it.Content.Path == items[i-1].Content.Path {
					later = append(later, it)
				} else {
					round = append(round, it)
				}
			}
		}
		entries := a.stretch(round)
		if entries == nil {
			entries = make([]source.Entry, len(round))
			for i, it := range round {
				entries[i] = *it.Content
			}
		}
		var again []Item
		var mu sync.Mutex
		conc := a.o.Bucket.WriteConcurrency(a.o.Concurrency)
		err := a.o.Source.Fetch(ctx, entries, conc, func(ctx context.Context, e source.Entry, r io.Reader) error {
			i, ok := slices.BinarySearchFunc(entries, e.Path, func(x source.Entry, p string) int { return strings.Compare(x.Path, p) })
			if !ok {
				return fmt.Errorf("source returned %q, which was not asked for", e.Path)
			}
			it := round[i]
			err := a.put(ctx, it, &countingReader{r: source.Verify(r, *it.Content), n: &a.readIn})
			if err == nil || !errors.Is(err, source.ErrContentMismatch) {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			if tries[it.Key()] >= contentRetries {
				return err
			}
			tries[it.Key()]++
			a.o.Logger.Warn("content did not match the listing, fetching it again", "path", it.Path(), "attempt", tries[it.Key()], "error", err.Error())
			again = append(again, it)
			return nil
		})
		if err != nil {
			return err
		}
		items = append(later, again...)
	}
	return nil
}

// stretch returns the part of the source listing that items' contents are,
// one after the other, or nil when they are not such a stretch (a cold run
// uploads the whole listing: it is not copied).
func (a *applier) stretch(items []Item) []source.Entry {
	if len(items) == 0 {
		return nil
	}
	first := items[0].Content
	k, ok := slices.BinarySearchFunc(a.listing, first.Path, func(x source.Entry, p string) int { return strings.Compare(x.Path, p) })
	if !ok || &a.listing[k] != first || k+len(items) > len(a.listing) {
		return nil
	}
	for i, it := range items {
		if it.Content != &a.listing[k+i] {
			return nil
		}
	}
	return a.listing[k : k+len(items) : k+len(items)]
}

// byContentPath orders items by the path of their content entry.
func byContentPath(x, y Item) int { return strings.Compare(x.Content.Path, y.Content.Path) }

// put writes one object (or adopts it when its MD5 matches).
func (a *applier) put(ctx context.Context, it Item, r io.Reader) error {
	opts := a.condition(it) // fence.go
	opts.ContentType, opts.CacheControl, opts.Size = it.ContentType(), it.CacheControl(), it.Size()
	opts.Metadata = map[string]string{MetaBlob: it.Blob().String()}
	if it.link {
		opts.Metadata[MetaSymlink] = "true"
		opts.Size = int64(len(it.LinkTarget()))
		if _, err := io.Copy(io.Discard, r); err != nil {
			return fmt.Errorf("read %s: %w", it.Path(), err)
		}
		r = strings.NewReader(it.LinkTarget())
	}
	if want := existingMD5(it.existing()); want != "" && it.Size() <= md5CheckLimit && !it.link {
		body, err := io.ReadAll(r)
		if err != nil {
			return fmt.Errorf("read %s: %w", it.Path(), err)
		}
		sum := md5.Sum(body)
		if want == hex.EncodeToString(sum[:]) {
			a.record(it, it.existing().ETag, true)
			return nil
		}
		r = bytes.NewReader(body)
	}
	obj, err := a.o.Bucket.Put(ctx, it.Key(), r, opts)
	if errors.Is(err, store.ErrPreconditionFailed) {
		return errKeyChanged(it.Key(), err)
	}
	if err != nil {
		return fmt.Errorf("upload %s: %w", it.Key(), err)
	}
	a.record(it, obj.ETag, false)
	return nil
}

// record adds an object to the manifest (its ETag, by the item's slot)
// and the summary.
func (a *applier) record(it Item, etag string, adopted bool) {
	a.mu.Lock()
	a.res.etags.set(int(it.slot), etag)
	if adopted {
		a.s.Adopted++
		a.s.Unchanged++
	} else {
		a.s.count(it)
	}
	a.mu.Unlock()
	n := a.done.Add(1)
	if a.o.Progress != nil && !adopted {
		a.o.Progress(Progress{Done: int(n), Total: a.total, BytesUploaded: a.o.Bucket.BytesUploaded()})
	}
}

// existingMD5 returns the hex MD5 of an existing object's content when the
// store reports it (as MD5, or as a simple-upload ETag); "" when unknown.
func existingMD5(o *store.Object) string {
	switch {
	case o == nil:
		return ""
	case len(o.MD5) == md5.Size:
		return hex.EncodeToString(o.MD5)
	case isMD5ETag(o.ETag):
		return strings.ToLower(strings.Trim(o.ETag, `"`))
	}
	return ""
}

// isMD5ETag reports whether an ETag looks like a plain MD5 (simple PUT).
func isMD5ETag(etag string) bool {
	e := strings.Trim(etag, `"`)
	if len(e) != 32 {
		return false
	}
	_, err := hex.DecodeString(e)
	return err == nil
}

func isNotExist(err error) bool { return err != nil && errors.Is(err, store.ErrNotExist) }

// countingReader counts bytes read from the source.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
