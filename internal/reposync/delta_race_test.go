package reposync

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// The git one-change fast path (manifestdelta.go) against other runs of the
// same job at once. What must hold whatever the interleaving: at every
// moment each blob and ETag the manifest records is what the store holds at
// that key; the run that loses stops with ErrConcurrentRun (or a missing
// shard, which says to run again); and the next run leaves the store equal
// to the source with an exact manifest.

// hookGit is a git checkout that calls a hook once, before the first Diff
// or the first Fetch (the run's first upload), the points where another run
// is let in.
type hookGit struct {
	*source.Git
	beforeDiff, beforeFetch func()
	diffOnce, fetchOnce     sync.Once
}

func (h *hookGit) Diff(ctx context.Context, from string, limit int) ([]source.Change, bool, error) {
	if h.beforeDiff != nil {
		h.diffOnce.Do(h.beforeDiff)
	}
	return h.Git.Diff(ctx, from, limit)
}

func (h *hookGit) Fetch(ctx context.Context, es []source.Entry, conc int, fn source.FetchFunc) error {
	if h.beforeFetch != nil {
		h.fetchOnce.Do(h.beforeFetch)
	}
	return h.Git.Fetch(ctx, es, conc, fn)
}

// tryRun runs once from the checkout's HEAD (src, when not nil, wraps it)
// with a sharded manifest of small shards, and returns the summary and error.
func (r *deltaRepo) tryRun(t *testing.T, url string, wrap func(*source.Git) source.Source) (*Summary, error) {
	t.Helper()
	return r.tryRunWith(t, url, wrap, nil)
}

// tryRunWith is tryRun with mod applied to the options.
func (r *deltaRepo) tryRunWith(t *testing.T, url string, wrap func(*source.Git) source.Source, mod func(*Options)) (*Summary, error) {
	t.Helper()
	g, err := source.NewGitCheckout(r.dir, source.GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var src source.Source = g
	if wrap != nil {
		src = wrap(g)
	}
	o := Options{Job: "t", Source: src, Bucket: openBucket(t, url), Concurrency: 1, MaxDelete: MaxDelete{Percent: 100}}
	sharded(&o)
	if mod != nil {
		mod(&o)
	}
	return Run(context.Background(), o)
}

// treeState is what the test knows the checkout's HEAD holds.
type treeState map[string]string

func (s treeState) clone() treeState {
	out := treeState{}
	for k, v := range s {
		out[k] = v
	}
	return out
}

// change commits to r: set (write) and gone (remove), and returns the new
// tree; rename moves a file to a new name in the same commit.
func (r *deltaRepo) change(t *testing.T, prev treeState, set map[string]string, gone []string, rename map[string]string) treeState {
	t.Helper()
	next := prev.clone()
	write := map[string]string{}
	for k, v := range set {
		write[k], next[k] = v, v
	}
	for from, to := range rename {
		write[to], next[to] = prev[from], prev[from]
		delete(next, from)
		gone = append(gone, from)
	}
	for _, k := range gone {
		delete(next, k)
	}
	r.commit(t, write, gone)
	return next
}

// checkManifestHonest asserts the manifest under url claims nothing untrue:
// every recorded object (not a placeholder) is in the store with the
// recorded bytes (blob SHA and size) and ETag. It returns the manifest.
func checkManifestHonest(t *testing.T, url string) *Manifest {
	t.Helper()
	b := openBucket(t, url)
	ctx := context.Background()
	m, err := ReadManifest(ctx, b, DefaultManifestKey)
	if err != nil || m == nil {
		t.Fatalf("read manifest: %v (present: %v)", err, m != nil)
	}
	for _, ob := range m.Objects {
		if ob.Blob == "" {
			continue
		}
		body, _, err := b.Read(ctx, ob.Key)
		if err != nil {
			t.Errorf("manifest claims %s = blob %.12s; store: %v", ob.Key, ob.Blob, err)
			continue
		}
		if got := source.BlobSHABytes(body); got != ob.Blob || int64(len(body)) != ob.Size {
			t.Errorf("manifest claims %s = blob %.12s (%d bytes); the store holds blob %.12s (%d bytes) %.30q",
				ob.Key, ob.Blob, ob.Size, got, len(body), body)
		}
		st, err := b.Stat(ctx, ob.Key)
		if err == nil && st.ETag != ob.ETag {
			t.Errorf("manifest records %s with ETag %s; the store's is %s", ob.Key, ob.ETag, st.ETag)
		}
	}
	return m
}

// checkConverged asserts that the store under url holds exactly tree (and
// the manifest with its shards), and that the manifest records exactly
// tree, each object with the store's ETag, nothing pending.
func checkConverged(t *testing.T, url string, tree treeState) {
	t.Helper()
	m := checkManifestHonest(t, url)
	b := openBucket(t, url)
	ctx := context.Background()
	var stray []string
	err := b.List(ctx, func(o store.Object) error {
		if o.Key == DefaultManifestKey || isShardKey(DefaultManifestKey, o.Key) {
			return nil
		}
		want, ok := tree[o.Key]
		if !ok {
			stray = append(stray, o.Key)
			return nil
		}
		body, _, err := b.Read(ctx, o.Key)
		if err != nil {
			return err
		}
		if string(body) != want {
			t.Errorf("store holds %.30q at %s, the source %.30q", body, o.Key, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(stray) > 0 {
		sort.Strings(stray)
		t.Errorf("store holds %d objects the source does not: %v", len(stray), stray)
	}
	if len(m.Pending) > 0 {
		t.Errorf("manifest still has %d pending keys", len(m.Pending))
	}
	seen := map[string]bool{}
	for _, ob := range m.Objects {
		seen[ob.Key] = true
		want, ok := tree[ob.Key]
		if !ok {
			t.Errorf("manifest records %s, which the source does not hold", ob.Key)
		} else if ob.Blob != source.BlobSHABytes([]byte(want)) {
			t.Errorf("manifest records %s as blob %.12s, the source has %.12s", ob.Key, ob.Blob, source.BlobSHABytes([]byte(want)))
		}
	}
	for k := range tree {
		if !seen[k] {
			t.Errorf("manifest misses %s", k)
		}
	}
	checkShards(t, b, false)
}

// deltaFixture is a sharded git mirror on mem:// after a cold run.
func deltaFixture(t *testing.T, n int) (*deltaRepo, string, treeState) {
	t.Helper()
	files := manyFiles(n)
	r := newDeltaRepo(t, files)
	url := fmt.Sprintf("mem://%s/p/", strings.ReplaceAll(t.Name(), "/", "-"))
	if _, err := r.tryRun(t, url, nil); err != nil {
		t.Fatalf("cold run: %v", err)
	}
	if m := checkManifestHonest(t, url); len(m.Shards) < 10 {
		t.Fatalf("%d shards: the test needs a sharded manifest", len(m.Shards))
	}
	return r, url, treeState(files)
}

// mustDelta fails the test unless s is a run that took the delta path (it
// read fewer shards than the manifest has).
func mustDelta(t *testing.T, s *Summary, what string) {
	t.Helper()
	if s == nil || s.StoreRequests[store.KindList] > 1 || s.StoreRequests[store.KindGet] > 8 {
		t.Fatalf("%s did not take the delta path: %+v", what, s)
	}
}

// A delta run (commit 2) that has written its intent and is about to upload
// while a run from a later commit (3) starts, sees the intent, plans in
// full, uploads and commits: the delta run's uploads land after that commit.
// They must not leave the store holding commit 2's content under a manifest
// that records commit 3's, nor an object of commit 2 that no manifest names.
func TestDeltaRunRacedByLaterRun(t *testing.T) {
	r, url, tree := deltaFixture(t, 200)
	tree2 := r.change(t, tree, map[string]string{"d00/f0001.txt": "v2 of 1", "d01/f0060.txt": "v2 of 60", "a-new.txt": "added in 2"},
		[]string{"d02/f0110.txt"}, map[string]string{"d03/f0170.txt": "d03/renamed-170.txt"})
	var tree3 treeState
	var inner *Summary
	var innerErr error
	outer, err := r.tryRun(t, url, func(g *source.Git) source.Source {
		return &hookGit{Git: g, beforeFetch: func() {
			// Commit 2's intent is the root: a run of commit 3 starts now.
			tree3 = r.change(t, tree2, map[string]string{"d00/f0001.txt": "v3 of 1", "d01/f0060.txt": "v3 of 60"},
				[]string{"a-new.txt"}, nil)
			inner, innerErr = r.tryRun(t, url, nil)
		}}
	})
	if innerErr != nil {
		t.Fatalf("the later run failed: %v", innerErr)
	}
	if inner.New+inner.Modified+inner.Adopted == 0 {
		t.Fatalf("the later run changed nothing: %+v", inner)
	}
	if !errors.Is(err, ErrConcurrentRun) {
		t.Fatalf("the delta run: %v (%+v), want ErrConcurrentRun", err, outer)
	}
	checkManifestHonest(t, url)
	if t.Failed() {
		return
	}
	// Run again from commit 3: the store must end up equal to it.
	if _, err := r.tryRun(t, url, nil); err != nil {
		t.Fatalf("run after the race: %v", err)
	}
	checkConverged(t, url, tree3)
}

// raceChanges are the commits of a race: commit 2 (the run let in second
// syncs it) changes, adds, deletes and renames; commit 3 (the run let in
// first) changes d01/f0075.txt and either keeps commit 2's changes
// (overlap: the first run rewrites the shards the second reads) or reverts
// them (disjoint: no shard in common, only the intent stops the second).
func raceChanges(t *testing.T, r *deltaRepo, tree treeState, overlap bool) (tree2 treeState, commit3 func() treeState) {
	t.Helper()
	tree2 = r.change(t, tree, map[string]string{"d00/f0001.txt": "v2 of 1", "d04/f0199.txt": "v2 of 199", "z-new.txt": "added in 2"},
		[]string{"d02/f0110.txt"}, map[string]string{"d03/f0170.txt": "d03/renamed-170.txt"})
	return tree2, func() treeState {
		if overlap {
			return r.change(t, tree2, map[string]string{"d00/f0001.txt": "v3 of 1", "d01/f0075.txt": "v3 of 75"}, nil, nil)
		}
		set := map[string]string{"d01/f0075.txt": "v3 of 75"}
		for _, k := range []string{"d00/f0001.txt", "d04/f0199.txt", "d02/f0110.txt", "d03/f0170.txt"} {
			set[k] = tree[k]
		}
		return r.change(t, tree2, set, []string{"z-new.txt", "d03/renamed-170.txt"}, nil)
	}
}

// Two delta runs at once, from different commits, both having read the same
// root: the one that commits second must stop before it uploads anything
// (its intent write fails, or a shard it needs is gone), and the store
// then holds the winner's commit exactly.
func TestTwoDeltaRunsAtOnce(t *testing.T) {
	for _, overlap := range []bool{true, false} {
		t.Run(map[bool]string{true: "overlapping", false: "disjoint"}[overlap], func(t *testing.T) {
			r, url, tree := deltaFixture(t, 200)
			_, commit3 := raceChanges(t, r, tree, overlap)
			var tree3 treeState
			var inner *Summary
			var innerErr error
			outer, err := r.tryRun(t, url, func(g *source.Git) source.Source {
				return &hookGit{Git: g, beforeDiff: func() {
					tree3 = commit3()
					inner, innerErr = r.tryRun(t, url, nil)
				}}
			})
			if innerErr != nil {
				t.Fatalf("the inner delta run failed: %v", innerErr)
			}
			mustDelta(t, inner, "the inner run")
			if err == nil {
				t.Fatalf("the outer delta run succeeded over the inner one's commit: %+v", outer)
			}
			if !errors.Is(err, ErrConcurrentRun) && !errors.Is(err, store.ErrNotExist) {
				t.Fatalf("the outer delta run: %v, want ErrConcurrentRun or a missing shard", err)
			}
			if outer != nil && outer.BytesUploaded > 0 {
				t.Fatalf("the losing run uploaded %d bytes (%v)", outer.BytesUploaded, err)
			}
			checkConverged(t, url, tree3)
			s, err := r.tryRun(t, url, nil)
			if err != nil || !s.UpToDate {
				t.Fatalf("run after the race: %v, %+v; want up to date", err, s)
			}
		})
	}
}

// hookList is a source whose List calls a hook once first: a full plan
// lists the tree after reading the root and before its intent.
type hookList struct {
	*source.Git
	before func()
	once   sync.Once
}

func (h *hookList) List(ctx context.Context) ([]source.Entry, error) {
	h.once.Do(h.before)
	return h.Git.List(ctx)
}

// A full run (--verify: the delta path is not allowed) and a delta run at
// once, each let in between the other's reading of the root and its intent:
// the one that commits second stops before uploading anything, and the
// store holds the winner's commit exactly.
func TestDeltaRunRacingFullRun(t *testing.T) {
	verify := func(o *Options) { o.Verify = true }
	for _, c := range []struct {
		name         string
		outer, inner func(*Options) // options of the run let in second / first
		hookDiff     bool
		overlap      bool
	}{
		{"full-commits-during-delta/overlapping", nil, verify, true, true},
		{"full-commits-during-delta/disjoint", nil, verify, true, false},
		{"delta-commits-during-full", verify, nil, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, url, tree := deltaFixture(t, 200)
			_, commit3 := raceChanges(t, r, tree, c.overlap)
			var tree3 treeState
			var inner *Summary
			var innerErr error
			let := func() {
				tree3 = commit3()
				inner, innerErr = r.tryRunWith(t, url, nil, c.inner)
			}
			outer, err := r.tryRunWith(t, url, func(g *source.Git) source.Source {
				if c.hookDiff {
					return &hookGit{Git: g, beforeDiff: let}
				}
				return &hookList{Git: g, before: let}
			}, c.outer)
			if innerErr != nil {
				t.Fatalf("the run let in: %v", innerErr)
			}
			if c.inner == nil { // (the outer delta run is on the delta path: only runDelta asks for a diff)
				mustDelta(t, inner, "the delta run let in")
			}
			if err == nil {
				t.Fatalf("the run let in first committed, and the other too: %+v", outer)
			}
			if !errors.Is(err, ErrConcurrentRun) && !errors.Is(err, store.ErrNotExist) {
				t.Fatalf("the losing run: %v, want ErrConcurrentRun or a missing shard", err)
			}
			if outer != nil && outer.BytesUploaded > 0 {
				t.Fatalf("the losing run uploaded %d bytes", outer.BytesUploaded)
			}
			checkConverged(t, url, tree3)
		})
	}
}
