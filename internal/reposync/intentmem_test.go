package reposync

import (
	"context"
	"encoding/json"
	"io"
	"runtime"
	"sort"
	"testing"
	"testing/iotest"
	"time"

	"github.com/ghsync/ghsync/internal/reposync/source"
)

// The intent's pending keys are written straight from the plan; the
// document must be what encoding/json makes of the same root, for keys
// json escapes too, with deletes merged in key order and their paths
// taken from the previous manifest.
func TestIntentEncodingMatchesJSON(t *testing.T) {
	names := []string{"a.txt", "b \"quoted\".txt", "c<&>.html", "d\\back", "é/ü.txt", "f\x01ctl", "g\xffbad", "h.txt", "z.txt"}
	sort.Strings(names) // a listing is in byte order
	entries := make([]source.Entry, len(names))
	for i, n := range names {
		entries[i] = source.Entry{Path: n, Size: 1, Blob: numberedBlob(i)}
	}
	plan := &Plan{Deletes: []string{"pre/b-gone", "pre/h.txt", "pre/zz-gone"}}
	for i := range entries {
		plan.Uploads = append(plan.Uploads, newItem("pre/"+entries[i].Path, entries[i].Path, &entries[i], nil))
	}
	prev := manifestState{m: &Manifest{Version: ShardedManifestVersion, Objects: []ManifestObject{
		{Path: "b-gone", Key: "pre/b-gone", Blob: "x"}, {Path: "pre/zz-gone", Key: "pre/zz-gone", Blob: "y"}}}}
	root := &Manifest{Version: ShardedManifestVersion, Job: "j", Source: "dir:/x", Mode: ModeFiles, WrittenAt: time.Unix(1, 0).UTC(),
		Objects: []ManifestObject{}, Count: 12, Shards: []ShardRef{{Name: "n", Count: 1, First: "a"}}}
	body, err := marshalWithPending(root, eachTouched(prev, plan))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(iotest.OneByteReader(body))
	if err != nil || int64(len(got)) != body.Size() {
		t.Fatalf("read %d bytes (%v), Size says %d", len(got), err, body.Size())
	}
	_, root.Pending = pendingOf(prev, plan, prev.m.Objects, nil, 0)
	want, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("intent root\n got %s\nwant %s", got, want)
	}
	var back Manifest
	if err := json.Unmarshal(got, &back); err != nil || len(back.Pending) != len(names)+2 {
		t.Errorf("decoded %d pending keys (%v), want %d", len(back.Pending), err, len(names)+2)
	}
}

// Issue 20: the intent of a cold run names every key of the tree; writing
// it must not hold the keys again in slices and a growing JSON buffer
// beside the plan. Writing the intent of 50,000 new keys allocated 223
// bytes per key with touched and pending slices and json.Marshal; the
// document itself is ~29 bytes per key, and mem:// keeps a copy of it.
func TestColdIntentAllocatesLittleBeyondItsDocument(t *testing.T) {
	const n = 50_000
	entries, o := coldTree(t, n)
	p, err := makePlan(planInput{entries: entries, opts: o, manifest: o.ManifestKey})
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := writeIntent(context.Background(), o, manifestState{}, p, "dir:/x"); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	perKey := (after.TotalAlloc - before.TotalAlloc) / n
	t.Logf("writing the intent allocated %d bytes per key", perKey)
	if perKey > 80 {
		t.Errorf("writing the intent allocated %d bytes per key, want at most 80", perKey)
	}
	m, err := ReadManifest(context.Background(), o.Bucket, o.ManifestKey)
	if err != nil || m == nil || len(m.Pending) != n || m.Count != n {
		t.Fatalf("intent read back: %v, err %v", m, err)
	}
}
