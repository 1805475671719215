package reposync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ghsync/ghsync/internal/store"
)

// Fenced writes. Every object a run uploads is written conditionally on
// what the run planned against, so a run that lost a race never overwrites
// what another run (or writer) put there since:
//
//   - a key the run believes absent (new and not listed, or not listed while
//     its manifest records it) is created with If-None-Match: *;
//   - a key whose current ETag the run knows — the listing's (an object
//     being adopted, repaired, or found at a new key), else the manifest's
//     (modified) — is replaced with If-Match: that ETag.
//
// A write whose condition fails (store.ErrPreconditionFailed) stops the run
// with an error naming the key that matches ErrConcurrentRun; nothing more
// is uploaded and the manifest is not committed. The keys this run created
// before it stopped are kept as placeholders in whatever manifest is
// current then (keepCreated), so no object of a losing run is outside every
// manifest and the next run reconciles them.

// errKeyChanged words the error of a fenced write that lost.
func errKeyChanged(key string, err error) error {
	return fmt.Errorf("upload %s: changed by another run or writer since this run planned; this run stops here and the next run will reconcile (%w: %w)",
		key, ErrConcurrentRun, err)
}

// condition returns the precondition of it's upload: If-Match the ETag the
// plan saw (it.existing: the listing's or Stat's; else p.fence: the
// manifest's or the listing's), or If-None-Match when the plan saw nothing
// there. A key whose known ETag is "" (a manifest of an early build) is
// written unconditionally.
func (a *applier) condition(it Item) store.PutOptions {
	if ex := it.existing(); ex != nil {
		return store.PutOptions{IfMatch: ex.ETag}
	}
	if etag, ok := a.fence[it.Key()]; ok {
		return store.PutOptions{IfMatch: etag}
	}
	return store.PutOptions{IfNoneMatch: true}
}

// fenceOn records that key's upload must find etag there (If-Match).
func (p *Plan) fenceOn(key, etag string) {
	if p.fence == nil {
		p.fence = map[string]string{}
	}
	p.fence[key] = etag
}

// blockingDeletes splits deletes into those that must run before the
// uploads and the rest. On stores where a key cannot be both an object and
// a prefix (Capabilities.KeyBlocksPrefix: file://), a deleted key that is a
// folder of an uploaded key ("a" deleted, "a/b" uploaded: a file became a
// folder) or that lies under an uploaded key ("a/b" deleted, "a" uploaded)
// blocks that upload, so it is deleted first. Each is already a
// placeholder in the intent, so a run failing in between leaves the
// manifest honest. Everywhere else every delete waits for every upload.
func blockingDeletes(b *store.Bucket, p *Plan) (first, rest []string) {
	if !b.Capabilities().KeyBlocksPrefix || len(p.Deletes) == 0 {
		return nil, p.Deletes
	}
	keys := make([]string, 0, len(p.Uploads)+len(p.Adopt))
	for _, it := range p.Uploads {
		keys = append(keys, it.Key())
	}
	for _, it := range p.Adopt {
		keys = append(keys, it.Key())
	}
	slices.Sort(keys)
	for _, d := range p.Deletes {
		i, _ := slices.BinarySearch(keys, d+"/")
		blocks := i < len(keys) && strings.HasPrefix(keys[i], d+"/")
		for j := strings.IndexByte(d, '/'); !blocks && j >= 0; {
			_, blocks = slices.BinarySearch(keys, d[:j])
			k := strings.IndexByte(d[j+1:], '/')
			if k < 0 {
				break
			}
			j += k + 1
		}
		if blocks {
			first = append(first, d)
		} else {
			rest = append(rest, d)
		}
	}
	return first, rest
}

// keepCreated records the keys a failed run may have created (its
// If-None-Match uploads: p's uploads with no known ETag, and adoptions) as
// placeholders in the current manifest when it is no longer this run's
// intent (intentETag) and does not name them: another run committed since,
// and its manifest does not know this run's objects. The write is
// conditional like every manifest write (a run that commits meanwhile makes
// it read again, up to three times); it records no commit, so the next run
// plans in full, lists the store and deletes, adopts or replaces them. A key
// the run did not create after all is only looked at again. Best effort: a
// failure is logged and leaves the objects unmanaged, never a false record.
// While the manifest is still the intent (one HEAD tells), it does nothing.
func keepCreated(ctx context.Context, o *Options, src, intentETag string, p *Plan) {
	ctx = context.WithoutCancel(ctx)
	if st, err := o.Bucket.Stat(ctx, o.ManifestKey); err == nil && intentETag != "" && st.ETag == intentETag {
		return // the intent names every key this run touched
	}
	var created []touch
	for _, it := range p.Uploads {
		if _, known := p.fence[it.Key()]; !known && it.existing() == nil {
			created = append(created, touch{it.Key(), it.Path()})
		}
	}
	for _, it := range p.Adopt { // an object gone by its Stat is created
		created = append(created, touch{it.Key(), it.Path()})
	}
	if len(created) == 0 {
		return
	}
	for range 3 {
		cur, err := readManifest(ctx, o.Bucket, o.ManifestKey)
		if err == nil && allPending(cur, created) {
			return
		}
		if err == nil {
			err = cur.load(ctx, o.Bucket, o.ManifestKey)
		}
		if err != nil {
			o.Logger.Warn("could not record the keys this failed run created; they stay unmanaged", "keys", len(created), "error", err.Error())
			return
		}
		named := map[string]bool{} // created keys the manifest names: recorded (adopted by the run that won) or placeholders
		if cur.m != nil {
			want := make(map[string]bool, len(created))
			for _, t := range created {
				want[t.key] = true
			}
			for _, ob := range cur.m.Objects {
				if want[ob.Key] {
					named[ob.Key] = true
				}
			}
		}
		var plan Plan
		for _, t := range created {
			if !named[t.key] {
				plan.Uploads = append(plan.Uploads, newItem(t.key, t.path, nil, nil))
			}
		}
		if len(plan.Uploads) == 0 {
			return
		}
		if cur.m != nil && cur.m.Source != "" {
			src = cur.m.Source
		}
		_, err = writeIntent(ctx, o, cur, &plan, src)
		if err == nil {
			o.Logger.Warn("another run committed while this one failed: the keys this run may have created are recorded as placeholders in its manifest; the next run reconciles them", "keys", len(plan.Uploads))
			return
		}
		if !errors.Is(err, ErrConcurrentRun) {
			o.Logger.Warn("could not record the keys this failed run created; they stay unmanaged", "keys", len(plan.Uploads), "error", err.Error())
			return
		}
	}
}

// archiveCondition is the fence of archive mode's one upload: If-Match the
// ETag the manifest records for the archive key; when it records none (no
// manifest, or a placeholder of a failed run), what the store holds there
// now — If-Match its ETag, or If-None-Match when there is nothing.
func archiveCondition(ctx context.Context, o *Options, old ManifestObject, key string) (store.PutOptions, error) {
	if old.Blob != "" && old.ETag != "" {
		return store.PutOptions{IfMatch: old.ETag}, nil
	}
	obj, err := o.Bucket.Stat(ctx, key)
	switch {
	case err == nil:
		return store.PutOptions{IfMatch: obj.ETag}, nil
	case isNotExist(err):
		return store.PutOptions{IfNoneMatch: true}, nil
	}
	return store.PutOptions{}, fmt.Errorf("check archive %s: %w", key, err)
}

// allPending reports whether a sharded root lists every created key as
// pending, which needs no shard read.
func allPending(cur manifestState, created []touch) bool {
	if cur.m == nil || len(cur.m.Pending) == 0 {
		return false
	}
	pending := make(map[string]bool, len(cur.m.Pending))
	for _, p := range cur.m.Pending {
		pending[p.Key] = true
	}
	for _, t := range created {
		if !pending[t.key] {
			return false
		}
	}
	return true
}
