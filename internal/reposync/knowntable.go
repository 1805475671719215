package reposync

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// knownTable is what a source's stat cache (source.StatCache) needs of a
// sharded manifest: each recorded object's key, size, modification time
// and blob, in key order. It is read shard by shard (at most 16 at a time,
// each decoded, copied and let go), so the manifest's objects (~200 bytes
// each with their strings) are never all held: a record is 56 bytes
// beside its key. Placeholders (pending keys), objects whose key is not
// the key prefix and their path, and blobs ParseBlob refuses are left out:
// the source reads those files.
type knownTable struct {
	prefix string
	recs   []knownRec
}

// knownRec is one recorded object of a knownTable.
type knownRec struct {
	key         string
	size, mtime int64
	blob        source.Blob
}

// loadKnownTable reads the shards of the sharded manifest m (at key) into
// a knownTable for objects under prefix.
func loadKnownTable(ctx context.Context, b *store.Bucket, key string, m *Manifest, prefix string) (*knownTable, error) {
	offs, err := shardOffsets(m, key)
	if err != nil {
		return nil, err
	}
	pending := make(map[string]bool, len(m.Pending))
	for _, p := range m.Pending {
		pending[p.Key] = true
	}
	recs := make([]knownRec, offs[len(m.Shards)])
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, ref := range m.Shards {
		g.Go(func() error {
			objs := make([]ManifestObject, ref.Count)
			if err := readShard(gctx, b, key, ref, objs); err != nil {
				return err
			}
			for j, ob := range objs {
				blob, err := source.ParseBlob(ob.Blob)
				if err != nil || pending[ob.Key] || !isPrefixedPath(ob.Key, prefix, ob.Path) {
					continue // left out (key ""), dropped below
				}
				recs[offs[i]+j] = knownRec{key: ob.Key, size: ob.Size, mtime: ob.MTime, blob: blob}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	recs = slices.DeleteFunc(recs, func(r knownRec) bool { return r.key == "" })
	byKey := func(x, y knownRec) int { return strings.Compare(x.key, y.key) }
	if !slices.IsSortedFunc(recs, byKey) {
		slices.SortFunc(recs, byKey)
	}
	return &knownTable{prefix: prefix, recs: slices.Clip(recs)}, nil
}

// find returns what the table records for the object of path.
func (t *knownTable) find(path string) (source.Known, bool) {
	i := sort.Search(len(t.recs), func(i int) bool { return compareJoined(t.recs[i].key, "", t.prefix, path) >= 0 })
	if i == len(t.recs) || compareJoined(t.recs[i].key, "", t.prefix, path) != 0 {
		return source.Known{}, false
	}
	r := &t.recs[i]
	return source.Known{Size: r.size, MTime: r.mtime, Blob: r.blob.String()}, true
}

// useKnown gives a source that can take what the last run recorded
// instead of reading it (source.StatCache: dir: skips hashing a file whose
// size and modification time match; git takes a known blob's size) the
// size, modification time and blob the manifest records for each path.
// A sharded manifest is read into a knownTable on the first question, so a
// source that asks nothing before the run is found up to date (git) costs
// nothing, and an up-to-date dir: run never holds the manifest's objects.
// The returned func lets the table go (the source asks nothing more once
// it has listed: call it after Source.List); later questions find nothing.
func useKnown(ctx context.Context, o *Options, prev *manifestState) (release func(), err error) {
	sc, ok := o.Source.(source.StatCache)
	if !ok || prev.m == nil || o.KeyTemplate != "" {
		return func() {}, nil
	}
	var mu sync.Mutex
	var table *knownTable // nil when the shards could not be read, or once released: nothing is known
	var inline *Manifest  // an inline manifest: its objects are in memory already
	loaded, released := false, false
	prefix := o.KeyPrefix
	sc.UseKnown(func(path string) (source.Known, bool) {
		mu.Lock()
		if !loaded && !released {
			loaded = true
			switch {
			case !prev.sharded():
				inline = prev.m
			default:
				if t, err := loadKnownTable(ctx, o.Bucket, o.ManifestKey, prev.m, prefix); err == nil { // else the run's own load reports it
					table = t
				}
			}
		}
		t, m := table, inline
		mu.Unlock()
		if t != nil {
			return t.find(path)
		}
		if m == nil {
			return source.Known{}, false
		}
		// Through m, not a copy of its Objects: Run lets the objects go once
		// planned (a later call finds nothing, and the file is hashed).
		ob, ok := findObject(m.Objects, prefix+path)
		if !ok || ob.Path != path || ob.Blob == "" {
			return source.Known{}, false
		}
		return source.Known{Size: ob.Size, MTime: ob.MTime, Blob: ob.Blob}, true
	})
	return func() {
		mu.Lock()
		table, inline, released = nil, nil, true
		mu.Unlock()
	}, nil
}
