package inbox

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"

	"github.com/ghsync/ghsync/internal/store"
)

// The store ledger's poll index is a small head object,
// .ghsync/inbox/JOB/index.json, naming immutable segments
// (.ghsync/inbox/JOB/index/HASH-RANDOM.json.gz, gzip-compressed) and holding the changes made since the newest one (the
// delta). A poll reads the head and its segments; a poll that changed the
// index writes the head only — its size bounded by StoreLedger.IndexDelta
// entries, whatever the history — until the delta outgrows that bound: then
// the delta becomes a segment, and segments are merged two by two while the
// newer is at least half the older (so there are at most log2(sets/IndexDelta)+1
// of them, and each entry is rewritten about that many times over its life).
// Before, the whole index (one entry per set) was rewritten by every poll
// that processed one new set.

// DefaultIndexDelta is the default bound of the head's delta, in entries
// (about 125 bytes each).
const DefaultIndexDelta = 1000

// indexHead is the head object. Version 1 (before segments) had the whole
// index in Sets; it is read and converted by the next write.
type indexHead struct {
	Version  int                    `json:"version"`
	Sets     map[string]IndexEntry  `json:"sets,omitempty"`
	Segments []indexSegmentRef      `json:"segments,omitempty"`
	Delta    map[string]*IndexEntry `json:"delta,omitempty"` // null: removed
}

type indexSegmentRef struct {
	Key string `json:"key"`
	// Entries counts the segment's entries, removals included.
	Entries int `json:"entries"`
}

// indexSegment is one segment: entries by prefix (nil: removed).
type indexSegment struct {
	ref  indexSegmentRef
	sets map[string]*IndexEntry
}

type indexSegmentFile struct {
	Sets map[string]*IndexEntry `json:"sets"`
}

// indexLoadTries bounds the rounds of LoadIndex that find a segment gone
// (replaced by a concurrent run's merge between the head read and the
// segment read).
const indexLoadTries = 3

func (l StoreLedger) indexDelta() int {
	if l.IndexDelta > 0 {
		return l.IndexDelta
	}
	return DefaultIndexDelta
}

// LoadIndex implements Indexer: the head, then each segment it names
// (listed is not needed: sets gone from the watch area leave the index).
func (l StoreLedger) LoadIndex(ctx context.Context, job string, _ []string) (*Index, error) {
	for range indexLoadTries {
		x, err := l.loadIndexOnce(ctx, job)
		if errors.Is(err, store.ErrNotExist) {
			continue // a segment replaced meanwhile: read the new head
		}
		return x, err
	}
	// Only a cache: start afresh (the next write replaces the head).
	l.logf(ctx, job, "segments keep disappearing under the reads; starting afresh")
	return l.freshIndex(ctx, job)
}

// freshIndex is an empty index whose next write replaces the current head.
func (l StoreLedger) freshIndex(ctx context.Context, job string) (*Index, error) {
	attrs, err := l.Bucket.Stat(ctx, indexKey(job))
	if errors.Is(err, store.ErrNotExist) {
		return newIndex(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("inbox ledger %s: read the poll index: %w", l.Bucket.URL(), err)
	}
	x := newIndex()
	x.etag = attrs.ETag
	return x, nil
}

func (l StoreLedger) loadIndexOnce(ctx context.Context, job string) (*Index, error) {
	x := newIndex()
	b, etag, err := l.Bucket.Read(ctx, indexKey(job))
	if errors.Is(err, store.ErrNotExist) {
		return x, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inbox ledger %s: read the poll index: %w", l.Bucket.URL(), err)
	}
	x.etag = etag
	var h indexHead
	if err := json.Unmarshal(b, &h); err != nil || (h.Version != 1 && h.Version != 2) {
		// A damaged or unknown index only costs one full pass: start afresh.
		return x, nil
	}
	if h.Version == 1 {
		// The whole index in the head: it becomes the delta, which the next
		// write turns into a segment.
		for p, e := range h.Sets {
			x.Sets[p] = e
			x.delta[p] = &e
		}
		return x, nil
	}
	for _, ref := range h.Segments {
		seg, err := l.readSegment(ctx, ref)
		if err != nil {
			return nil, err
		}
		x.segs = append(x.segs, seg)
		apply(x.Sets, seg.sets)
	}
	if h.Delta != nil {
		x.delta = h.Delta
	}
	apply(x.Sets, x.delta)
	return x, nil
}

// apply applies changes (nil: removed) to sets.
func apply(sets map[string]IndexEntry, changes map[string]*IndexEntry) {
	for p, e := range changes {
		if e == nil {
			delete(sets, p)
		} else {
			sets[p] = *e
		}
	}
}

func (l StoreLedger) readSegment(ctx context.Context, ref indexSegmentRef) (*indexSegment, error) {
	b, _, err := l.Bucket.Read(ctx, ref.Key)
	if errors.Is(err, store.ErrNotExist) {
		return nil, fmt.Errorf("inbox ledger %s: poll index segment %s: %w", l.Bucket.URL(), ref.Key, err)
	}
	if err != nil {
		return nil, fmt.Errorf("inbox ledger %s: read poll index segment %s: %w", l.Bucket.URL(), ref.Key, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("inbox ledger %s: poll index segment %s: %w", l.Bucket.URL(), ref.Key, err)
	}
	var f indexSegmentFile
	if err := json.NewDecoder(io.LimitReader(zr, 1<<30)).Decode(&f); err != nil {
		return nil, fmt.Errorf("inbox ledger %s: poll index segment %s: %w", l.Bucket.URL(), ref.Key, err)
	}
	if f.Sets == nil {
		f.Sets = map[string]*IndexEntry{}
	}
	return &indexSegment{ref: ref, sets: f.Sets}, nil
}

// SaveIndex implements Indexer: the head, written on the condition of the
// ETag read (after the segments a compaction made); when another run wrote
// the head meanwhile, this run's changes are applied to that index and
// written once more (if that fails too, the next poll looks the changed
// sets up again). Segments no longer named are deleted after the head
// write; a reader that finds one gone reads the head again.
func (l StoreLedger) SaveIndex(ctx context.Context, job string, x *Index) error {
	if len(x.updates) == 0 {
		return nil
	}
	for try := 0; ; try++ {
		delta := maps.Clone(x.delta)
		if delta == nil {
			delta = map[string]*IndexEntry{}
		}
		maps.Copy(delta, x.updates)
		for p, e := range delta {
			if e == nil && !inSegments(x.segs, p) {
				delete(delta, p) // nothing underneath to hide
			}
		}
		segs := append([]*indexSegment{}, x.segs...)
		var made []*indexSegment
		if len(delta) > l.indexDelta() {
			segs, made = compact(segs, delta)
			delta = map[string]*IndexEntry{}
		}
		for _, s := range made {
			if err := l.writeSegment(ctx, job, s); err != nil {
				return err
			}
		}
		h := indexHead{Version: 2, Delta: delta}
		for _, s := range segs {
			h.Segments = append(h.Segments, s.ref)
		}
		b, err := json.Marshal(h)
		if err != nil {
			return fmt.Errorf("inbox ledger %s: encode the poll index: %w", l.Bucket.URL(), err)
		}
		po := store.PutOptions{ContentType: "application/json", IfMatch: x.etag, IfNoneMatch: x.etag == ""}
		o, err := l.Bucket.Put(ctx, indexKey(job), bytes.NewReader(b), po)
		if err == nil {
			l.dropSegments(ctx, job, unnamed(x.segs, segs))
			x.etag, x.updates, x.segs, x.delta = o.ETag, map[string]*IndexEntry{}, segs, delta
			return nil
		}
		l.dropSegments(ctx, job, unnamed(made, x.segs))
		if !errors.Is(err, store.ErrPreconditionFailed) || try == 1 {
			return fmt.Errorf("inbox ledger %s: write the poll index: %w", l.Bucket.URL(), err)
		}
		fresh, err := l.LoadIndex(ctx, job, nil)
		if err != nil {
			return err
		}
		apply(fresh.Sets, x.updates)
		x.Sets, x.etag, x.segs, x.delta = fresh.Sets, fresh.etag, fresh.segs, fresh.delta
	}
}

// inSegments reports whether any of segs has an entry for prefix.
func inSegments(segs []*indexSegment, prefix string) bool {
	for _, s := range segs {
		if _, ok := s.sets[prefix]; ok {
			return true
		}
	}
	return false
}

// compact turns delta into the newest segment and merges the two newest
// while the newer holds at least half as many entries as the older. A
// merge into the oldest segment drops removals. It returns the segments
// and the new ones among them (to be written).
func compact(segs []*indexSegment, delta map[string]*IndexEntry) (all, made []*indexSegment) {
	segs = append(segs, &indexSegment{sets: delta})
	fresh := map[*indexSegment]bool{segs[len(segs)-1]: true}
	for n := len(segs); n >= 2 && 2*len(segs[n-1].sets) >= len(segs[n-2].sets); n = len(segs) {
		m := maps.Clone(segs[n-2].sets)
		maps.Copy(m, segs[n-1].sets)
		if n == 2 {
			for p, e := range m {
				if e == nil {
					delete(m, p)
				}
			}
		}
		delete(fresh, segs[n-1])
		delete(fresh, segs[n-2])
		if len(m) == 0 { // everything removed: no segment at all
			segs = segs[:n-2]
			continue
		}
		merged := &indexSegment{sets: m}
		fresh[merged] = true
		segs = append(segs[:n-2], merged)
	}
	for _, s := range segs {
		if fresh[s] {
			made = append(made, s)
		}
	}
	return segs, made
}

// writeSegment stores s under the hash of its content and sets s.ref.
func (l StoreLedger) writeSegment(ctx context.Context, job string, s *indexSegment) error {
	raw, err := json.Marshal(indexSegmentFile{Sets: s.sets})
	if err != nil {
		return fmt.Errorf("inbox ledger %s: encode a poll index segment: %w", l.Bucket.URL(), err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write(raw); err != nil {
		return fmt.Errorf("inbox ledger %s: compress a poll index segment: %w", l.Bucket.URL(), err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("inbox ledger %s: compress a poll index segment: %w", l.Bucket.URL(), err)
	}
	// The hash of the content, and a random part: two runs that make the
	// same segment never share (and so never delete) each other's object.
	sum := sha256.Sum256(raw)
	var nonce [6]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return fmt.Errorf("inbox ledger %s: name a poll index segment: %w", l.Bucket.URL(), err)
	}
	s.ref = indexSegmentRef{Key: indexSegmentPrefix(job) + hex.EncodeToString(sum[:12]) + "-" + hex.EncodeToString(nonce[:]) + ".json.gz",
		Entries: len(s.sets)}
	if _, err := l.Bucket.Put(ctx, s.ref.Key, bytes.NewReader(z.Bytes()), store.PutOptions{ContentType: "application/gzip"}); err != nil {
		return fmt.Errorf("inbox ledger %s: write poll index segment %s: %w", l.Bucket.URL(), s.ref.Key, err)
	}
	return nil
}

// unnamed returns the segments of old that new does not name.
func unnamed(old, new []*indexSegment) []string {
	keep := map[string]bool{}
	for _, s := range new {
		keep[s.ref.Key] = true
	}
	var gone []string
	for _, s := range old {
		if s.ref.Key != "" && !keep[s.ref.Key] {
			gone = append(gone, s.ref.Key)
		}
	}
	return gone
}

// dropSegments deletes segments no head names any more; a failure leaves
// garbage, not a wrong index, and is only logged.
func (l StoreLedger) dropSegments(ctx context.Context, job string, keys []string) {
	if len(keys) == 0 {
		return
	}
	if err := l.Bucket.Delete(ctx, keys); err != nil && !errors.Is(err, store.ErrNotExist) {
		l.logf(ctx, job, fmt.Sprintf("could not delete %d replaced poll index segment(s): %v", len(keys), err))
	}
}

func (l StoreLedger) logf(_ context.Context, job, msg string) {
	if l.Logger != nil {
		l.Logger.Warn("inbox ledger: "+msg, "job", job, "ledger", l.Bucket.URL())
	}
}

func indexKey(job string) string { return ".ghsync/inbox/" + job + "/index.json" }

func indexSegmentPrefix(job string) string { return ".ghsync/inbox/" + job + "/index/" }

// Unindex implements Indexer.
func (l StoreLedger) Unindex(ctx context.Context, job, prefix string) error {
	x, err := l.LoadIndex(ctx, job, nil)
	if err != nil {
		return err
	}
	x.drop(prefix)
	return l.SaveIndex(ctx, job, x)
}
