package reposync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/ghsync/ghsync/internal/store"
)

// ManifestVersion is the format version written by this build.
const ManifestVersion = 1

// Manifest is the record a successful run leaves under the prefix. It is
// the only state repo sync keeps: what was synced, and every object it
// manages with the ETag the store returned when ghsync wrote it.
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
}

// ManifestObject is one managed object.
type ManifestObject struct {
	Path        string `json:"path"`
	Key         string `json:"key"`
	Blob        string `json:"blob"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type,omitempty"`
	ETag        string `json:"etag"`
}

// manifestState is a manifest as read, with the ETag needed to replace it.
type manifestState struct {
	m    *Manifest // nil when there is none yet
	etag string    // store ETag of the manifest object; "" when absent
}

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
	for _, o := range s.m.Objects {
		if o.Blob == "" {
			return true
		}
	}
	return false
}

// readManifest loads the manifest at key. A missing manifest is not an
// error; a manifest that cannot be parsed or has a newer version is.
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
	if m.Version > ManifestVersion {
		return manifestState{}, fmt.Errorf("manifest %s has format version %d; this ghsync understands up to %d", key, m.Version, ManifestVersion)
	}
	return manifestState{m: &m, etag: etag}, nil
}

// ErrConcurrentRun reports that another run replaced the manifest while
// this one was working.
var ErrConcurrentRun = errors.New("another run of this job wrote the manifest first")

// writeManifest replaces the manifest only if it is still the one read at
// the start (or still absent), so two overlapping runs cannot both win.
func writeManifest(ctx context.Context, b *store.Bucket, key string, prev manifestState, m *Manifest) (string, error) {
	sort.Slice(m.Objects, func(i, j int) bool { return m.Objects[i].Key < m.Objects[j].Key })
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return "", fmt.Errorf("encode manifest: %w", err)
	}
	opts := store.PutOptions{ContentType: "application/json", CacheControl: "no-store", Size: int64(len(data))}
	if prev.etag != "" {
		opts.IfMatch = prev.etag
	} else {
		opts.IfNoneMatch = true
	}
	obj, err := b.Put(ctx, key, bytesReader(data), opts)
	if errors.Is(err, store.ErrPreconditionFailed) {
		return "", fmt.Errorf("write manifest %s: %w; this run stops here", key, ErrConcurrentRun)
	}
	if err != nil {
		return "", fmt.Errorf("write manifest %s: %w", key, err)
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
	objects := intentObjects(prev, plan) // intent.go
	if objects == nil {
		return prev, nil
	}
	m := &Manifest{Version: ManifestVersion, Job: o.Job, Owner: o.Owner, Source: src, Mode: o.Mode, WrittenAt: time.Now().UTC()}
	m.Objects = objects
	etag, err := writeManifest(ctx, o.Bucket, o.ManifestKey, prev, m)
	if err != nil {
		return prev, err
	}
	if etag == "" { // schemes whose writes return no ETag (file://, mem://)
		st, err := o.Bucket.Stat(ctx, o.ManifestKey)
		if err != nil {
			return prev, fmt.Errorf("read back manifest %s: %w", o.ManifestKey, err)
		}
		etag = st.ETag
	}
	return manifestState{m: prev.m, etag: etag}, nil
}
