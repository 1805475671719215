package reposync

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// deltaRepo is a git checkout the test commits to.
type deltaRepo struct {
	dir  string
	repo *git.Repository
}

func newDeltaRepo(t *testing.T, files map[string]string) *deltaRepo {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	r := &deltaRepo{dir: dir, repo: repo}
	r.commit(t, files, nil)
	return r
}

// commit writes files, removes gone and commits everything.
func (r *deltaRepo) commit(t *testing.T, files map[string]string, gone []string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(r.dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range gone {
		if err := os.Remove(filepath.Join(r.dir, filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
	}
	wt, err := r.repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "t", Email: "t@example.com", When: time.Now()}
	if _, err := wt.Commit("c", &git.CommitOptions{Author: sig, Committer: sig, AllowEmptyCommits: true}); err != nil {
		t.Fatal(err)
	}
}

func (r *deltaRepo) run(t *testing.T, url string, mod func(*Options)) *Summary {
	t.Helper()
	src, err := source.NewGitCheckout(r.dir, source.GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Job: "t", Source: src, Bucket: openBucket(t, url), Concurrency: 4}
	sharded(&o)
	if mod != nil {
		mod(&o)
	}
	s, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return s
}

// A one-file change from a git source reads only the shard holding the
// path (issue 20): a shard that does not hold it may even be missing, and
// the run makes a handful of store requests, not one per shard.
func TestGitOneChangeReadsOneShard(t *testing.T) {
	files := manyFiles(200)
	r := newDeltaRepo(t, files)
	url := "mem://" + t.Name() + "/p/"
	r.run(t, url, nil)
	b := openBucket(t, url)
	m := checkShardsNamed(t, b)
	if len(m.Shards) < 10 {
		t.Fatalf("%d shards: the test needs many", len(m.Shards))
	}
	// The last shard cannot hold d00/f0000.txt (the first key): take it away.
	last := shardKey(DefaultManifestKey, m.Shards[len(m.Shards)-1].Name)
	if err := b.Delete(context.Background(), []string{last}); err != nil {
		t.Fatal(err)
	}
	r.commit(t, map[string]string{"d00/f0000.txt": "changed"}, nil)
	s := r.run(t, url, nil)
	if s.Modified != 1 || s.New != 0 || s.Deleted != 0 || s.Unchanged != 199 {
		t.Fatalf("summary %+v", s)
	}
	// Reads: the root and the one shard holding the path.
	if got := s.StoreRequests[store.KindGet]; got > 2 {
		t.Fatalf("%d GETs for a one-file change across %d shards (%v)", got, len(m.Shards), s.StoreRequests)
	}
}

// Delta runs keep the manifest true: after changes, additions before the
// first key and after the last, and deletions, the manifest records
// exactly the tree, each shard holds only keys of its range, and a
// --verify run against the store finds nothing to repair.
func TestGitDeltaKeepsManifestTrue(t *testing.T) {
	files := manyFiles(120)
	r := newDeltaRepo(t, files)
	url := "mem://" + t.Name() + "/p/"
	r.run(t, url, nil)
	r.commit(t, map[string]string{"a-first.txt": "new first", "d01/f0060.txt": "changed", "zz/last.txt": "new last"},
		[]string{"d00/f0003.txt", "d02/f0119.txt"})
	files["a-first.txt"], files["d01/f0060.txt"], files["zz/last.txt"] = "new first", "changed", "new last"
	delete(files, "d00/f0003.txt")
	delete(files, "d02/f0119.txt")
	s := r.run(t, url, nil)
	if s.New != 2 || s.Modified != 1 || s.Deleted != 2 {
		t.Fatalf("summary %+v", s)
	}
	r.commit(t, map[string]string{"d00/f0001.txt": "again"}, nil)
	files["d00/f0001.txt"] = "again"
	r.run(t, url, nil)
	b := openBucket(t, url)
	m := checkShardsNamed(t, b)
	if m.Count != len(files) || len(m.Objects) != len(files) {
		t.Fatalf("manifest counts %d, holds %d objects, the tree has %d", m.Count, len(m.Objects), len(files))
	}
	at := 0
	for i, ref := range m.Shards {
		for _, ob := range m.Objects[at : at+ref.Count] {
			if ob.Key < ref.First || (i+1 < len(m.Shards) && ob.Key >= m.Shards[i+1].First) {
				t.Fatalf("shard %d (from %q) holds %q", i, ref.First, ob.Key)
			}
		}
		at += ref.Count
	}
	for _, ob := range m.Objects {
		want, ok := files[ob.Path]
		if !ok || ob.Blob != source.BlobSHABytes([]byte(want)) {
			t.Fatalf("manifest records %s as %s", ob.Path, ob.Blob)
		}
		body, _, err := b.Read(context.Background(), ob.Key)
		if err != nil || string(body) != want {
			t.Fatalf("store holds %q at %s (%v), want %q", body, ob.Key, err, want)
		}
	}
	v := r.run(t, url, func(o *Options) { o.Verify = true })
	if v.Repaired+v.New+v.Modified+v.Deleted != 0 {
		t.Fatalf("verify after delta runs: %+v", v)
	}
	var gotKeys []string
	_ = b.List(context.Background(), func(o store.Object) error {
		if !strings.HasPrefix(o.Key, DefaultManifestKey) {
			gotKeys = append(gotKeys, o.Key)
		}
		return nil
	})
	if len(gotKeys) != len(files) {
		t.Fatalf("store holds %d objects, the tree has %d", len(gotKeys), len(files))
	}
}
