package reposync

import (
	"context"
	"slices"
	"testing"

	"github.com/ghsync/ghsync/internal/store"
)

// The unit suite runs twice in CI: as is, and with
// GHSYNC_TEST_SHARDED_MANIFEST=1 (sync_test.go's tryRun), which makes every
// manifest sharded whatever its size. A test that needs one form whatever
// the switch says asks for it (inline, sharded); a test that edits a stored
// manifest does it through editManifest, which keeps the form it finds.

// inline makes a run write an inline manifest (up to DefaultManifestInline
// objects) even under GHSYNC_TEST_SHARDED_MANIFEST.
func inline(o *Options) { o.inlineLimit, o.shardAvg = 0, 0 }

// editManifest reads the manifest under b (every object, placeholders
// applied), lets edit change it and writes it back conditionally in the
// form it had: an inline manifest stays one document, a sharded one is
// written as shards and a root, as a run would.
func editManifest(t *testing.T, b *store.Bucket, edit func(m *Manifest)) {
	t.Helper()
	ctx := context.Background()
	prev, err := readManifest(ctx, b, DefaultManifestKey)
	if err != nil || prev.m == nil {
		t.Fatalf("read manifest: %v (present: %v)", err, prev.m != nil)
	}
	if err := prev.load(ctx, b, DefaultManifestKey); err != nil {
		t.Fatalf("load manifest: %v", err)
	}
	m := *prev.m
	m.Objects = slices.Clone(prev.m.Objects)
	edit(&m)
	o := Options{Bucket: b}
	o.defaults()
	if prev.sharded() {
		o.inlineLimit, o.shardAvg = -1, 2
	} else {
		o.inlineLimit = len(m.Objects) + 1
	}
	if _, err := writeManifest(ctx, &o, prev, &m); err != nil {
		t.Fatalf("write manifest: %v", err)
	}
}
