package reposync

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ghsync/ghsync/internal/store"
)

// A sharded manifest (version 2) keeps the cost of recording a run
// proportional to what the run changed, not to the tree:
//
//   - The objects, sorted by key, are cut into shards at key-defined
//     boundaries (a key whose FNV-1a hash is 0 modulo the average shard
//     size ends a shard; a shard of 8× the average is cut anyway), so
//     adding, changing or removing one entry changes the shard holding it
//     and leaves every other shard byte for byte as it was.
//   - A shard is the compact JSON of its entries, gzip-compressed, stored
//     under MANIFEST.d/NAME.json.gz where NAME is the SHA-256 (first 128
//     bits) of the uncompressed JSON and a nonce drawn once per write
//     (shardname.go: why a late delete never removes a named shard). A
//     write uploads only shards the stored manifest does not already name
//     (by content); reading checks every shard against its name.
//   - The root at the manifest key names the shards in key order and holds
//     the run's identity (commit, settings, owner); it is the commit point,
//     written conditionally (If-Match / If-None-Match) after its shards.
//     Shards only the replaced root named are deleted afterwards.
//   - A run's intent (writeIntent) rewrites only the root: the same shards
//     plus Pending, a placeholder for each key the run may create,
//     overwrite or delete, which replaces the shards' entry for that key.
//     So a failed run leaves a manifest that claims nothing untrue, at the
//     cost of the keys it touches.
//
// Manifests of at most DefaultManifestInline objects stay inline (version 1,
// readable by older builds); an inline manifest above that size, written
// by an older build, is converted by the next run without re-uploading any
// object (Run never treats it as up to date).

// DefaultManifestInline is the largest number of objects kept in one
// inline manifest document (about 60 KB, written twice by a changing run).
// It is low enough that the kill -9, fault and overlap suites of e2e (300 to
// 1,500 files) run on sharded manifests.
const DefaultManifestInline = 256

// DefaultShardSize is the average number of entries of a manifest shard.
const DefaultShardSize = 1024

// ShardRef names one shard of a sharded manifest.
type ShardRef struct {
	Name  string `json:"name"` // hex SHA-256 prefix of the shard's uncompressed JSON, then "-" and a per-write nonce (shardname.go)
	Count int    `json:"n"`    // entries in the shard
	// First is the shard's first key: shard i holds the keys from its
	// First up to the next shard's, so a run that knows which keys
	// changed (manifestdelta.go) reads only the shards holding them.
	// Roots written before it have none (those runs read every shard).
	First string `json:"f,omitempty"`
}

// shardEntry is a ManifestObject as a shard stores it (short names; the
// key only when it differs from the path).
type shardEntry struct {
	P string `json:"p"`
	K string `json:"k,omitempty"`
	B string `json:"b"`
	S int64  `json:"s"`
	T string `json:"t,omitempty"`
	E string `json:"e"`
	M int64  `json:"m,omitempty"`
}

func (o *Options) manifestInline() int {
	if o.inlineLimit != 0 {
		return max(o.inlineLimit, 0)
	}
	return DefaultManifestInline
}

func (o *Options) shardSize() int {
	if o.shardAvg > 0 {
		return o.shardAvg
	}
	return DefaultShardSize
}

// shardKey is where the shard name is stored.
func shardKey(manifestKey, name string) string { return manifestKey + ".d/" + name + ".json.gz" }

// isShardKey reports whether key is a shard of the manifest at manifestKey.
func isShardKey(manifestKey, key string) bool {
	p := manifestKey + ".d/"
	return len(key) > len(p) && key[:len(p)] == p
}

// cutShards splits objects (sorted by key, no placeholders) into shards.
func cutShards(objects []ManifestObject, avg int) [][]ManifestObject {
	var out [][]ManifestObject
	start := 0
	for i, ob := range objects {
		if shardEnds(ob.Key, avg) || i+1-start >= 8*avg || i == len(objects)-1 {
			out = append(out, objects[start:i+1])
			start = i + 1
		}
	}
	return out
}

// shardEnds reports whether key ends a shard of avg entries on average (a
// shard of 8×avg entries is cut anyway).
func shardEnds(key string, avg int) bool {
	h := uint64(14695981039346656037) // FNV-1a, 64 bits (hash/fnv's, without its allocation)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return h%uint64(avg) == 0
}

// decodeShard checks a shard body against its reference and fills dst
// (of length ref.Count) with its objects.
func decodeShard(ref ShardRef, body []byte, dst []ManifestObject) error {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("shard %s: %w", ref.Name, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return fmt.Errorf("shard %s: %w", ref.Name, err)
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:16]) != shardSum(ref.Name) {
		return fmt.Errorf("shard %s: content does not match its name", ref.Name)
	}
	var entries []shardEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return fmt.Errorf("shard %s: %w", ref.Name, err)
	}
	if len(entries) != ref.Count || len(dst) != ref.Count {
		return fmt.Errorf("shard %s: %d entries, the manifest says %d", ref.Name, len(entries), ref.Count)
	}
	// A shard's objects share a handful of content types: one string each,
	// not one per object (32 MB at 1,000,000 objects of one type).
	var types []string
	for i, e := range entries {
		k := e.K
		if k == "" {
			k = e.P
		}
		ct := e.T
		if j := slices.Index(types, ct); j >= 0 {
			ct = types[j]
		} else if len(types) < maxSharedTypes {
			types = append(types, ct)
		}
		dst[i] = ManifestObject{Path: e.P, Key: k, Blob: e.B, Size: e.S, ContentType: ct, ETag: e.E, MTime: e.M}
	}
	return nil
}

// maxSharedTypes bounds the distinct content types decodeShard shares
// within a shard (looked up one by one; a shard of more keeps the rest
// as decoded).
const maxSharedTypes = 16

// writeShards uploads the shards of objects (m's, in key order) that prev
// does not already name and returns the root document to write. The
// objects are cut into shards as they come (cutShards' boundaries), so
// only one shard's objects are held at a time. Placeholders (no blob) go
// to the root's Pending, not into shards.
func writeShards(ctx context.Context, o *Options, prev manifestState, m *Manifest, objects iter.Seq[ManifestObject]) (*Manifest, error) {
	have := make(map[string]bool, len(prev.refs))
	for _, r := range prev.refs {
		have[r.Name] = true
	}
	namer, err := newShardNamer(prev.refs) // shardname.go
	if err != nil {
		return nil, err
	}
	avg := o.shardSize()
	var (
		refs    []ShardRef
		pending []PendingKey
		count   int
		enc     shardEncoder
		shard   = make([]ManifestObject, 0, 2*avg)
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(min(o.Concurrency, 16), 1))
	flush := func() error {
		objs := shard
		defer func() { clear(shard); shard = shard[:0] }()
		if ref, ok := prev.sums.find(objs); ok && ref.Count == len(objs) && have[ref.Name] {
			ref.First = objs[0].Key
			refs = append(refs, ref) // as loaded: no need to encode it again
			return nil
		}
		sum, body, err := enc.encode(objs)
		if err != nil {
			return err
		}
		name, upload := namer.name(sum)
		refs = append(refs, ShardRef{Name: name, Count: len(objs), First: objs[0].Key})
		if !upload {
			return nil
		}
		g.Go(func() error {
			key := shardKey(o.ManifestKey, name)
			_, err := o.Bucket.Put(gctx, key, bytes.NewReader(body), store.PutOptions{ContentType: "application/gzip", CacheControl: "no-store", Size: int64(len(body))})
			if err != nil {
				return fmt.Errorf("write manifest shard %s: %w", key, err)
			}
			return nil
		})
		return nil
	}
	var ferr error
	for ob := range objects {
		count++
		if ob.Blob == "" {
			pending = append(pending, pendingKey(ob.Key, ob.Path))
			continue
		}
		shard = append(shard, ob)
		if shardEnds(ob.Key, avg) || len(shard) >= 8*avg {
			if ferr = flush(); ferr != nil || gctx.Err() != nil {
				break
			}
		}
	}
	if ferr == nil && gctx.Err() == nil && len(shard) > 0 {
		ferr = flush()
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if ferr != nil {
		return nil, ferr
	}
	root := *m
	root.Version, root.Count, root.Objects, root.Shards, root.Pending = ShardedManifestVersion, count, []ManifestObject{}, refs, pending
	m.Version, m.Count, m.Shards, m.Pending = root.Version, root.Count, refs, nil
	return &root, nil
}

// writeShardedIntent writes the intent of a run whose manifest is or
// becomes sharded (prev sharded, or none yet): the previous root with no
// commit and no settings, the same shards, and a placeholder in Pending
// for every key the plan creates, overwrites or deletes (intentObjects
// documents why each). Only the root is written. Its pending keys are
// encoded straight from the plan (eachTouched) as the store reads the
// document (marshalWithPending): a cold run touches every key of the
// tree, and a slice of them, a second of PendingKey and json's growing
// buffer held the tree three more times (~13 MB at 100,000 files).
func writeShardedIntent(ctx context.Context, o *Options, prev manifestState, plan *Plan, src string) (manifestState, error) {
	if len(plan.Uploads)+len(plan.Deletes) == 0 {
		return prev, nil
	}
	var objects []ManifestObject
	var earlier []PendingKey
	if prev.m != nil {
		objects, earlier = prev.m.Objects, prev.m.Pending
	}
	count := len(objects)
	if prev.partial { // objects are only the shards a delta run read
		count = prev.m.Count
	}
	root := &Manifest{Version: ShardedManifestVersion, Job: o.Job, Owner: o.Owner, Source: src, Mode: o.Mode,
		WrittenAt: time.Now().UTC(), Objects: []ManifestObject{}, Shards: prev.refs}
	if touched := eachTouched(prev, plan); touched != nil && len(earlier) == 0 {
		for key := range touched {
			if _, ok := searchObject(objects, key); !ok {
				count++
			}
		}
		root.Count = count
		body, err := marshalWithPending(root, touched)
		if err != nil {
			return prev, fmt.Errorf("encode manifest: %w", err)
		}
		defer body.Close()
		etag, err := putRootFrom(ctx, o.Bucket, o.ManifestKey, prev, body, body.Size())
		if err != nil {
			return prev, err
		}
		return manifestState{m: prev.m, etag: etag, loaded: prev.loaded, refs: prev.refs, sums: prev.sums}, nil
	}
	// An earlier failed run's keys to keep, or a plan out of key order.
	root.Count, root.Pending = pendingOf(prev, plan, objects, earlier, count)
	data, err := json.Marshal(root)
	if err != nil {
		return prev, fmt.Errorf("encode manifest: %w", err)
	}
	etag, err := putRoot(ctx, o.Bucket, o.ManifestKey, prev, data)
	if err != nil {
		return prev, err
	}
	return manifestState{m: prev.m, etag: etag, loaded: prev.loaded, refs: prev.refs, sums: prev.sums}, nil
}

// pendingOf returns the count and the pending keys of an intent from
// slices: the plan's touched keys, and earlier's that it does not touch
// (an earlier failed run's keys stay unknown), sorted by key.
func pendingOf(prev manifestState, plan *Plan, objects []ManifestObject, earlier []PendingKey, count int) (int, []PendingKey) {
	touched := touchedKeys(prev, plan) // intent.go
	pending := make([]PendingKey, 0, len(touched)+len(earlier))
	for _, t := range touched {
		if _, ok := searchObject(objects, t.key); !ok {
			count++
		}
		pending = append(pending, pendingKey(t.key, t.path))
	}
	for _, p := range earlier {
		if _, ok := searchTouch(touched, p.Key); !ok {
			pending = append(pending, p)
		}
	}
	if len(pending) > len(touched) {
		slices.SortFunc(pending, func(a, b PendingKey) int { return strings.Compare(a.Key, b.Key) })
	}
	return count, pending
}

// putShardedRoot encodes a sharded root and writes it conditionally on prev
// (putRoot), returning its ETag.
func putShardedRoot(ctx context.Context, o *Options, prev manifestState, root *Manifest) (string, error) {
	data, err := json.Marshal(root)
	if err != nil {
		return "", fmt.Errorf("encode manifest: %w", err)
	}
	return putRoot(ctx, o.Bucket, o.ManifestKey, prev, data)
}

// findObject looks key up in objects sorted by key.
func findObject(objects []ManifestObject, key string) (ManifestObject, bool) {
	i := sort.Search(len(objects), func(i int) bool { return objects[i].Key >= key })
	if i < len(objects) && objects[i].Key == key {
		return objects[i], true
	}
	return ManifestObject{}, false
}

// load reads the shards of a sharded manifest (at most 16 at a time) into
// s.m.Objects, sorted by key, with the pending placeholders applied. Each
// shard is decoded into its place in one slice sized from the root's
// counts, so the objects are never held twice.
func (s *manifestState) load(ctx context.Context, b *store.Bucket, key string) error {
	if s.m == nil || s.loaded {
		return nil
	}
	offs, err := shardOffsets(s.m, key)
	if err != nil {
		return err
	}
	objects := make([]ManifestObject, offs[len(s.m.Shards)], offs[len(s.m.Shards)]+len(s.m.Pending))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, ref := range s.m.Shards {
		g.Go(func() error {
			return readShard(gctx, b, key, ref, objects[offs[i]:offs[i+1]])
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	s.sums = &shardSums{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, refs: make(map[[16]byte]ShardRef, len(s.m.Shards))}
	for i, ref := range s.m.Shards {
		s.sums.refs[s.sums.sum(objects[offs[i]:offs[i+1]])] = ref
	}
	if len(s.m.Pending) > 0 {
		pending := make(map[string]bool, len(s.m.Pending))
		for _, p := range s.m.Pending {
			pending[p.Key] = true
		}
		kept := objects[:0] // in place: the shards' entries a pending key replaces go
		for _, ob := range objects {
			if !pending[ob.Key] {
				kept = append(kept, ob)
			}
		}
		objects = kept
		for _, p := range s.m.Pending {
			if pending[p.Key] { // once per key
				pending[p.Key] = false
				objects = append(objects, ManifestObject{Path: p.path(), Key: p.Key})
			}
		}
	}
	sort.Slice(objects, func(i, j int) bool { return objects[i].Key < objects[j].Key })
	s.m.Objects, s.loaded = objects, true
	return nil
}

// shardOffsets returns where each shard of the sharded manifest m (at
// key) starts in one slice of all its objects, and that slice's length
// last.
func shardOffsets(m *Manifest, key string) ([]int, error) {
	offs := make([]int, len(m.Shards)+1)
	for i, ref := range m.Shards {
		if ref.Count < 0 {
			return nil, fmt.Errorf("manifest %s: shard %s has a negative count; move it away and the next run adopts what the store holds", key, ref.Name)
		}
		offs[i+1] = offs[i] + ref.Count
	}
	return offs, nil
}

// readShard reads the shard ref of the manifest at key into dst (of
// length ref.Count), checking it against its name.
func readShard(ctx context.Context, b *store.Bucket, key string, ref ShardRef, dst []ManifestObject) error {
	sk := shardKey(key, ref.Name)
	body, _, err := b.Read(ctx, sk)
	if errors.Is(err, store.ErrNotExist) {
		return fmt.Errorf("manifest %s names shard %s, which is missing: if another run replaced the manifest meanwhile, run again; "+
			"otherwise move %s away and the next run adopts what the store holds: %w", key, sk, key, err)
	}
	if err != nil {
		return fmt.Errorf("read manifest shard %s: %w", sk, err)
	}
	if err := decodeShard(ref, body, dst); err != nil {
		return fmt.Errorf("manifest %s: %w; move it away and the next run adopts what the store holds", key, err)
	}
	return nil
}

// shardSums finds the loaded shards a write leaves as they were, by a
// cheap in-process digest of their entries (no encoding): two seeded
// maphash sums, 128 bits, of every field.
type shardSums struct {
	seeds [2]maphash.Seed
	refs  map[[16]byte]ShardRef
}

// find returns the loaded shard whose entries are objs (false on a nil s).
func (s *shardSums) find(objs []ManifestObject) (ShardRef, bool) {
	if s == nil {
		return ShardRef{}, false
	}
	ref, ok := s.refs[s.sum(objs)]
	return ref, ok
}

func (s *shardSums) sum(objs []ManifestObject) [16]byte {
	var hs [2]maphash.Hash
	var buf [16]byte
	for i := range hs {
		h := &hs[i]
		h.SetSeed(s.seeds[i])
		for _, ob := range objs {
			for _, f := range [...]string{ob.Path, ob.Key, ob.Blob, ob.ContentType, ob.ETag} {
				_, _ = h.WriteString(f)
				_ = h.WriteByte(0)
			}
			binary.LittleEndian.PutUint64(buf[:8], uint64(ob.Size))
			binary.LittleEndian.PutUint64(buf[8:], uint64(ob.MTime))
			_, _ = h.Write(buf[:])
		}
	}
	var out [16]byte
	binary.LittleEndian.PutUint64(out[:8], hs[0].Sum64())
	binary.LittleEndian.PutUint64(out[8:], hs[1].Sum64())
	return out
}

// dropShards deletes the shards named in old but not in keep, once the root
// naming keep is in place. A failure is logged, not returned: the run's
// record is already true, and an unnamed shard is only garbage.
func dropShards(ctx context.Context, o *Options, old, keep []ShardRef) {
	if len(old) == 0 {
		return
	}
	kept := make(map[string]bool, len(keep))
	for _, r := range keep {
		kept[r.Name] = true
	}
	var gone []string
	for _, r := range old {
		if !kept[r.Name] {
			gone = append(gone, shardKey(o.ManifestKey, r.Name))
			kept[r.Name] = true
		}
	}
	if len(gone) == 0 {
		return
	}
	if err := o.Bucket.Delete(ctx, gone); err != nil {
		o.Logger.Warn("could not delete replaced manifest shards (garbage only)", "count", len(gone), "error", err.Error())
	}
}
