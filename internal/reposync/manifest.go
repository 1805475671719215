package reposync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/store"
)

// ManifestVersion is the format version of an inline manifest (every object
// in the one document); ShardedManifestVersion that of a sharded one.
const (
	ManifestVersion        = 1
	ShardedManifestVersion = 2
)

// Manifest is the record a successful run leaves under the prefix. It is
// the only state repo sync keeps: what was synced, and every object it
// manages with the ETag the store returned when ghsync wrote it.
//
// A manifest of up to Options' inline limit (DefaultManifestInline objects)
// is one document with every object in Objects (version 1, as older builds
// wrote it). A larger one is sharded (version 2, manifestshard.go): the
// document at the manifest key is a small root naming, in Shards,
// compressed shards of at most a few thousand objects each, named by
// their content hash and a per-write nonce (shardname.go), cut at
// key-defined boundaries so that a change rewrites only the
// shards holding changed entries; Pending lists the keys a run in progress
// (or a failed one) may have changed, which override the shards' entries.
// ReadManifest returns either form with Objects filled in.
type Manifest struct {
	Version   int              `json:"version"`
	Job       string           `json:"job,omitempty"`
	Owner     string           `json:"owner,omitempty"` // the source owning the prefix (OwnerOf); "" in older manifests
	Source    string           `json:"source"`
	Ref       string           `json:"ref,omitempty"`
	Commit    string           `json:"commit"`
	ETag      string           `json:"etag,omitempty"`
	Mode      string           `json:"mode"`
	Settings  string           `json:"settings"`
	WrittenAt time.Time        `json:"written_at"`
	Objects   []ManifestObject `json:"objects"`
	// Skips and SkippedPaths (the first 50) record what the run that wrote
	// the manifest left out, so an up-to-date run can still report it.
	Skips        *Skips   `json:"skips,omitempty"`
	SkippedPaths []string `json:"skipped_paths,omitempty"`
	// Count is the number of objects a sharded manifest records (shards
	// and pending keys together); 0 in an inline one.
	Count int `json:"count,omitempty"`
	// Shards names the shards of a sharded manifest, in key order.
	Shards []ShardRef `json:"shards,omitempty"`
	// Pending lists, in a sharded manifest, placeholders (no blob) for the
	// keys a run meant to create, overwrite or delete (writeIntent); they
	// replace any entry of the same key in the shards.
	Pending []PendingKey `json:"pending,omitempty"`
}

// PendingKey is a key a run may have changed (a placeholder: "unknown,
// look at the store"), with the source path when it differs from the key.
type PendingKey struct {
	Key  string `json:"k"`
	Path string `json:"p,omitempty"`
}

func pendingKey(key, path string) PendingKey {
	if path == key {
		path = ""
	}
	return PendingKey{Key: key, Path: path}
}

// path returns the source path of a pending key.
func (p PendingKey) path() string {
	if p.Path == "" {
		return p.Key
	}
	return p.Path
}

// ObjectCount is the number of objects the manifest records, from the root
// alone (Count for a sharded manifest, whose Objects a plain JSON decode of
// the root leaves empty).
func (m *Manifest) ObjectCount() int {
	if m.Version >= ShardedManifestVersion {
		return m.Count
	}
	return len(m.Objects)
}

// ManifestObject is one managed object.
type ManifestObject struct {
	Path        string `json:"path"`
	Key         string `json:"key"`
	Blob        string `json:"blob"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type,omitempty"`
	ETag        string `json:"etag"`
	// MTime is the source file's modification time in Unix nanoseconds
	// when it was hashed (dir: sources); 0 when unknown. With the size it
	// lets the next run of a folder skip hashing an unchanged file.
	MTime int64 `json:"mtime,omitempty"`
}

// manifestState is a manifest as read, with the ETag needed to replace it.
type manifestState struct {
	m    *Manifest // nil when there is none yet
	etag string    // store ETag of the manifest object; "" when absent
	// loaded is true once m.Objects holds every object (an inline
	// manifest always; a sharded one after load).
	loaded bool
	// refs are the shards the stored manifest names (none when inline):
	// they exist, so a write needs not upload them again.
	refs []ShardRef
	// sums maps the cheap digest of each loaded shard's entries (shardSums)
	// to its reference, so a write re-encodes only the shards that changed.
	sums *shardSums
	// partial is true when m.Objects holds only the shards a delta run
	// read (manifestdelta.go); m.Count is then the manifest's count.
	partial bool
}

// count returns how many objects the manifest records, without loading it.
func (s manifestState) count() int {
	switch {
	case s.m == nil:
		return 0
	case s.m.Version >= ShardedManifestVersion:
		return s.m.Count
	}
	return len(s.m.Objects)
}

// sharded reports whether the stored manifest is a sharded one.
func (s manifestState) sharded() bool { return s.m != nil && s.m.Version >= ShardedManifestVersion }

// byKey indexes the managed objects by key.
func (s manifestState) byKey() map[string]ManifestObject {
	out := map[string]ManifestObject{}
	if s.m == nil {
		return out
	}
	for _, o := range s.m.Objects {
		out[o.Key] = o
	}
	return out
}

// hasPlaceholders reports whether the manifest is one a failed run left
// (writeIntent): keys it meant to create, overwrite or delete, which the
// store must be listed to know about.
func (s manifestState) hasPlaceholders() bool {
	if s.m == nil {
		return false
	}
	if len(s.m.Pending) > 0 {
		return true
	}
	for _, o := range s.m.Objects {
		if o.Blob == "" {
			return true
		}
	}
	return false
}

// sortedObjects returns objects sorted by key, one per key (the last
// recorded), as the planner looks keys up: an inline manifest an older
// build wrote may be neither.
func sortedObjects(objects []ManifestObject) []ManifestObject {
	if slices.IsSortedFunc(objects, func(a, b ManifestObject) int { return strings.Compare(a.Key, b.Key) }) &&
		!hasDuplicateKeys(objects) {
		return objects
	}
	slices.SortStableFunc(objects, func(a, b ManifestObject) int { return strings.Compare(a.Key, b.Key) })
	out := objects[:0]
	for i, ob := range objects {
		if i+1 < len(objects) && objects[i+1].Key == ob.Key {
			continue // a later record of the key wins
		}
		out = append(out, ob)
	}
	return out
}

// hasDuplicateKeys reports whether objects sorted by key repeat a key.
func hasDuplicateKeys(objects []ManifestObject) bool {
	for i := 1; i < len(objects); i++ {
		if objects[i].Key == objects[i-1].Key {
			return true
		}
	}
	return false
}

// readManifest loads the manifest at key: the whole of an inline one, the
// root of a sharded one (load reads its shards). A missing manifest is not
// an error; a manifest that cannot be parsed or has a newer version is.
func readManifest(ctx context.Context, b *store.Bucket, key string) (manifestState, error) {
	data, etag, err := b.Read(ctx, key)
	if errors.Is(err, store.ErrNotExist) {
		return manifestState{}, nil
	}
	if err != nil {
		return manifestState{}, fmt.Errorf("read manifest %s: %w", key, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return manifestState{}, fmt.Errorf("manifest %s is not valid JSON (%v); move it away to start over", key, err)
	}
	if m.Version > ShardedManifestVersion {
		return manifestState{}, fmt.Errorf("manifest %s has format version %d; this ghsync understands up to %d", key, m.Version, ShardedManifestVersion)
	}
	st := manifestState{m: &m, etag: etag, loaded: m.Version < ShardedManifestVersion, refs: m.Shards}
	if st.loaded {
		m.Objects = sortedObjects(m.Objects)
		m.Count = len(m.Objects)
	}
	return st, nil
}

// ReadManifest returns the manifest at key under b with every object in
// Objects (a sharded manifest's shards read and its pending placeholders
// applied), or nil when there is none. It is what tests and tools use to
// look at a destination's record.
func ReadManifest(ctx context.Context, b *store.Bucket, key string) (*Manifest, error) {
	st, err := readManifest(ctx, b, key)
	if err != nil || st.m == nil {
		return nil, err
	}
	if err := st.load(ctx, b, key); err != nil {
		return nil, err
	}
	return st.m, nil
}

// ErrConcurrentRun reports that another run replaced the manifest while
// this one was working.
var ErrConcurrentRun = errors.New("another run of this job wrote the manifest first")

// writeManifest replaces the manifest only if it is still the one read at
// the start (or still absent), so two overlapping runs cannot both win. Up
// to o's inline limit it writes one document; above it a sharded manifest:
// the shards the previous manifest does not already name, then the root
// (manifestshard.go). It returns the state the next write must replace;
// once the root is in place, shards only the replaced manifest named are
// deleted (best effort: a failure leaves garbage, never a false record).
func writeManifest(ctx context.Context, o *Options, prev manifestState, m *Manifest) (manifestState, error) {
	sort.Slice(m.Objects, func(i, j int) bool { return m.Objects[i].Key < m.Objects[j].Key })
	return writeManifestSeq(ctx, o, prev, m, slices.Values(m.Objects), len(m.Objects))
}

// writeManifestSeq is writeManifest with the objects given as a sequence
// in key order (n of them) instead of in m.Objects: a sharded manifest is
// encoded shard by shard as the sequence yields, never held whole; an
// inline one is collected into m.Objects. m.Objects is left as it was
// (nil for a sequence), and the state returned is loaded only when it
// holds every object.
func writeManifestSeq(ctx context.Context, o *Options, prev manifestState, m *Manifest, objects iter.Seq[ManifestObject], n int) (manifestState, error) {
	var data []byte
	var err error
	var refs []ShardRef
	if n <= o.manifestInline() {
		if m.Objects == nil {
			m.Objects = slices.Collect(objects)
		}
		m.Version, m.Count, m.Shards, m.Pending = ManifestVersion, 0, nil, nil
		data, err = json.MarshalIndent(m, "", " ")
	} else {
		var root *Manifest
		if root, err = writeShards(ctx, o, prev, m, objects); err != nil {
			return prev, err
		}
		refs = root.Shards
		data, err = json.Marshal(root)
	}
	if err != nil {
		return prev, fmt.Errorf("encode manifest: %w", err)
	}
	etag, err := putRoot(ctx, o.Bucket, o.ManifestKey, prev, data)
	if err != nil {
		return prev, err
	}
	dropShards(ctx, o, prev.refs, refs)
	return manifestState{m: m, etag: etag, loaded: m.Objects != nil || m.Count == 0, refs: refs}, nil
}

// putRoot writes the manifest document conditionally on prev and returns
// its ETag (read back with one HEAD on schemes whose writes return none).
// A precondition failure is ErrConcurrentRun unless the root in place is
// this very write, whose first answer was lost (lostroot.go).
func putRoot(ctx context.Context, b *store.Bucket, key string, prev manifestState, data []byte) (string, error) {
	return putRootFrom(ctx, b, key, prev, bytesReader(data), int64(len(data)))
}

// putRootFrom is putRoot with the document read from r (size bytes; the
// store checks the count).
func putRootFrom(ctx context.Context, b *store.Bucket, key string, prev manifestState, r io.Reader, size int64) (string, error) {
	opts := store.PutOptions{ContentType: "application/json", CacheControl: "no-store", Size: size}
	if prev.etag != "" {
		opts.IfMatch = prev.etag
	} else {
		opts.IfNoneMatch = true
	}
	id := markRootWrite(&opts) // lostroot.go: a lost answer is told from another run's write
	obj, err := b.Put(ctx, key, r, opts)
	if errors.Is(err, store.ErrPreconditionFailed) {
		return rootPreconditionFailed(ctx, b, key, id, err)
	}
	if err != nil {
		return "", fmt.Errorf("write manifest %s: %w", key, err)
	}
	if obj.ETag == "" { // schemes whose writes return no ETag (file://, mem://)
		st, err := b.Stat(ctx, key)
		if err != nil {
			return "", fmt.Errorf("read back manifest %s: %w", key, err)
		}
		return st.ETag, nil
	}
	return obj.ETag, nil
}

// writeIntent records, before any upload, the keys this run is about to
// create, overwrite or delete (intentObjects), so that a run failing
// half-way leaves a manifest that claims nothing untrue: the manifest
// written is the previous one with a placeholder for each such key (no
// blob, so a later run lists the store, re-uploads the key if the source
// has it and deletes it if not), with no commit and no settings, so that
// the next run is never "up to date" on it. Runs that change nothing and
// dry runs write nothing here. It returns the manifest state the final
// write must replace; the conditional write also stops an overlapping run
// before it uploads anything.
func writeIntent(ctx context.Context, o *Options, prev manifestState, plan *Plan, src string) (manifestState, error) {
	if (prev.sharded() || prev.m == nil) && prev.count()+len(plan.Uploads) > o.manifestInline() {
		return writeShardedIntent(ctx, o, prev, plan, src) // manifestshard.go: the root only
	}
	objects := intentObjects(prev, plan) // intent.go
	if objects == nil {
		return prev, nil
	}
	m := &Manifest{Version: ManifestVersion, Job: o.Job, Owner: o.Owner, Source: src, Mode: o.Mode, WrittenAt: time.Now().UTC()}
	m.Objects = objects
	next, err := writeManifest(ctx, o, prev, m)
	if err != nil {
		return prev, err
	}
	// The final write replaces this intent, and compares against the
	// previous manifest's content: keep it, with the intent's ETag and shards.
	return manifestState{m: prev.m, etag: next.etag, loaded: prev.loaded, refs: next.refs, sums: prev.sums}, nil
}
