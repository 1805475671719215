package reposync

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// deltaLimit is the most paths a source diff may name for a run to take
// the delta path; a larger change is planned from the whole listing.
const deltaLimit = 4096

// runDelta syncs a change a source diff proves (source.Differ: a git
// commit diff from the commit the manifest records) without listing the
// tree or reading the whole manifest: it reads only the shards whose key
// ranges (ShardRef.First) hold a changed path, plans those paths, writes
// the intent root (their keys pending), uploads and deletes, then writes
// only the shards that changed and the root. Every other shard stays as it
// is, named by the new root.
//
// It returns false, having written nothing, when the diff cannot prove
// the change: no diff (another source, an unknown or shallow commit),
// changed options (fingerprint), --verify, --dry-run, delete: all (which
// needs the store listing), a key template, followed symlinks, an owner
// to record, pending keys of a failed run, a root without key ranges (an
// older build's), a change to a symlink or submodule, a skipped or
// filtered-out-by-name path. Run then plans from the whole listing.
func runDelta(ctx context.Context, o *Options, s *Summary, prev manifestState, rev source.Revision, settings string) (bool, error) {
	d, ok := o.Source.(source.Differ)
	if !ok || !deltaAllowed(o, s, prev, settings) {
		return false, nil
	}
	changes, ok, err := d.Diff(ctx, prev.m.Commit, deltaLimit)
	if err != nil || !ok {
		return false, err
	}
	var entries []source.Entry
	var gone []string // keys of deleted paths
	for _, c := range changes {
		if c.New != nil {
			entries = append(entries, *c.New)
		} else {
			gone = append(gone, o.KeyPrefix+c.Path)
		}
	}
	var skips Skips
	var items []Item
	skipped, err := eachDesired(entries, o, &skips, func(it Item) { items = append(items, it) })
	if err != nil {
		return true, err // the full plan fails the same way
	}
	if len(skipped) > 0 {
		return false, nil
	}
	refs := prev.m.Shards
	shardOf := func(key string) int {
		return max(sort.Search(len(refs), func(i int) bool { return refs[i].First > key })-1, 0)
	}
	read := map[int][]ManifestObject{} // affected shard → its objects
	for _, k := range slices.Concat(itemKeys(items), gone) {
		i := shardOf(k)
		if _, ok := read[i]; ok {
			continue
		}
		objs := make([]ManifestObject, refs[i].Count)
		if err := readShard(ctx, o.Bucket, o.ManifestKey, refs[i], objs); err != nil {
			return true, err
		}
		read[i] = objs
	}
	idx := slices.Sorted(func(yield func(int) bool) {
		for i := range read {
			if !yield(i) {
				return
			}
		}
	})
	var known []ManifestObject // the affected shards' objects, sorted by key
	for _, i := range idx {
		known = append(known, read[i]...)
	}
	plan := &Plan{listing: entries}
	removed := map[string]bool{} // managed keys the new shards leave out (re-added if uploaded)
	for _, it := range items {
		j, ok := searchObject(known, it.Key())
		switch {
		case ok && it.Blob().Is(known[j].Blob) && known[j].ContentType == it.ContentType():
			continue // the mode alone changed: the object is the same
		case ok:
			it.Kind = KindModified
			removed[it.Key()] = true
			plan.fenceOn(it.Key(), known[j].ETag) // fence.go: the manifest's ETag
		default:
			it.Kind = KindNew
		}
		plan.Uploads = append(plan.Uploads, it)
	}
	for _, k := range gone {
		if _, ok := searchObject(known, k); ok {
			removed[k] = true
			if o.Delete != DeleteNone {
				plan.Deletes = append(plan.Deletes, k)
			}
		}
	}
	if prev.count()-len(plan.Deletes) <= o.manifestInline() {
		return false, nil // the manifest goes inline: the full write does that
	}
	if err := checkMaxDelete(o, len(plan.Deletes), prev.count()); err != nil {
		return true, err
	}
	s.Unchanged = prev.count() - len(removed)
	carrySkips(s, prev.m)
	sub := prev
	sub.m = new(*prev.m)
	sub.m.Objects, sub.loaded, sub.partial = known, true, true
	if sub, err = writeIntent(ctx, o, sub, plan, s.Source); err != nil {
		return true, err
	}
	objs, err := apply(ctx, o, plan, s)
	if err != nil {
		keepCreated(ctx, o, s.Source, sub.etag, plan) // fence.go
		return true, err
	}
	newRefs, err := writeDeltaShards(ctx, o, refs, read, removed, objs, shardOf)
	if err != nil {
		keepCreated(ctx, o, s.Source, sub.etag, plan)
		return true, err
	}
	m := &Manifest{Version: ShardedManifestVersion, Job: o.Job, Owner: o.Owner, Source: s.Source, Ref: rev.Ref, Commit: rev.Commit,
		ETag: rev.ETag, Mode: o.Mode, Settings: settings, WrittenAt: time.Now().UTC(), Objects: []ManifestObject{},
		Skips: prev.m.Skips, SkippedPaths: prev.m.SkippedPaths, Count: prev.m.Count - len(removed) + len(objs), Shards: newRefs}
	etag, err := putShardedRoot(ctx, o, sub, m)
	if err != nil {
		keepCreated(ctx, o, s.Source, sub.etag, plan)
		return true, err
	}
	dropShards(ctx, o, refs, newRefs)
	collectShards(ctx, o, manifestState{m: m, etag: etag, loaded: true, refs: newRefs}) // shardgc.go
	return true, nil
}

// deltaAllowed checks what runDelta needs before it asks for a diff.
func deltaAllowed(o *Options, s *Summary, prev manifestState, settings string) bool {
	if o.Mode == ModeArchive || o.DryRun || o.Verify || o.Delete == DeleteAll || o.KeyTemplate != "" || o.Symlinks == SymlinksFollow {
		return false
	}
	if !prev.sharded() || prev.m.Source != s.Source || prev.m.Commit == "" || prev.m.Settings != settings ||
		len(prev.m.Pending) > 0 || len(prev.m.Shards) == 0 || o.recordsOwner(prev) {
		return false
	}
	if _, ok := o.Source.(source.UnreadableReporter); ok {
		return false // what it could not read is known only from a listing
	}
	return !slices.ContainsFunc(prev.m.Shards, func(r ShardRef) bool { return r.First == "" || r.Count <= 0 })
}

// carrySkips reports what the previous manifest records as left out: a
// delta run changes no symlink or submodule, so that is still true.
func carrySkips(s *Summary, m *Manifest) {
	if sk := m.Skips; sk != nil {
		s.Skips = *sk
		s.Skipped = sk.Unstorable + sk.Symlinks + sk.Submodules
		s.Paths.Skipped = append([]string(nil), m.SkippedPaths...)
	}
}

func itemKeys(items []Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Key()
	}
	return out
}

// writeDeltaShards rewrites the shards in read: their objects less the
// removed keys, plus the recorded objects (objs) whose keys fall in their
// ranges, cut again (cutShards) and uploaded unless an existing shard has
// the same content. It returns the new shard list in key order; a shard
// left empty is dropped.
func writeDeltaShards(ctx context.Context, o *Options, refs []ShardRef, read map[int][]ManifestObject, removed map[string]bool,
	objs []ManifestObject, shardOf func(string) int) ([]ShardRef, error) {
	namer, err := newShardNamer(refs) // shardname.go
	if err != nil {
		return nil, err
	}
	add := map[int][]ManifestObject{}
	for _, ob := range objs {
		i := shardOf(ob.Key)
		add[i] = append(add[i], ob)
	}
	var out []ShardRef
	for i, ref := range refs {
		old, ok := read[i]
		if !ok {
			out = append(out, ref)
			continue
		}
		next := slices.DeleteFunc(slices.Clone(old), func(ob ManifestObject) bool { return removed[ob.Key] })
		next = append(next, add[i]...)
		slices.SortFunc(next, func(a, b ManifestObject) int { return strings.Compare(a.Key, b.Key) })
		if len(next) == 0 {
			continue
		}
		for _, part := range cutShards(next, o.shardSize()) {
			sum, body, err := encodeShard(part)
			if err != nil {
				return nil, err
			}
			name, upload := namer.name(sum)
			out = append(out, ShardRef{Name: name, Count: len(part), First: part[0].Key})
			if !upload {
				continue
			}
			key := shardKey(o.ManifestKey, name)
			if _, err := o.Bucket.Put(ctx, key, bytes.NewReader(body), store.PutOptions{ContentType: "application/gzip", CacheControl: "no-store", Size: int64(len(body))}); err != nil {
				return nil, fmt.Errorf("write manifest shard %s: %w", key, err)
			}
		}
	}
	return out, nil
}
