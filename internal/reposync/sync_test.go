package reposync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

type bundle struct {
	src *memSource
	b   *store.Bucket
	url string
}

func setup(t *testing.T, files map[string]string) *bundle {
	t.Helper()
	url := fmt.Sprintf("mem://%s/prefix/", strings.ReplaceAll(t.Name(), "/", "-"))
	return &bundle{src: newMemSource(files), b: openBucket(t, url), url: url}
}

func openBucket(t *testing.T, url string) *store.Bucket {
	t.Helper()
	b, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func (tb *bundle) run(t *testing.T, mod func(*Options)) *Summary {
	t.Helper()
	s, err := tb.tryRun(t, mod)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return s
}

func (tb *bundle) tryRun(t *testing.T, mod func(*Options)) (*Summary, error) {
	t.Helper()
	b := openBucket(t, tb.url) // fresh counters per run
	o := Options{Job: "t", Source: tb.src, Bucket: b, Concurrency: 4}
	if os.Getenv("GHSYNC_TEST_SHARDED_MANIFEST") != "" { // run the suite on sharded manifests
		o.inlineLimit, o.shardAvg = -1, 2
	}
	if mod != nil {
		mod(&o)
	}
	return Run(context.Background(), o)
}

// objects returns key → body of everything under the prefix but the
// shards of a sharded manifest.
func (tb *bundle) objects(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := tb.b.List(context.Background(), func(o store.Object) error {
		if isShardKey(DefaultManifestKey, o.Key) {
			return nil
		}
		data, _, err := tb.b.Read(context.Background(), o.Key)
		out[o.Key] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (tb *bundle) put(t *testing.T, key, body string) {
	t.Helper()
	if _, err := tb.b.Put(context.Background(), key, strings.NewReader(body), store.PutOptions{Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		if !strings.HasPrefix(k, ".ghsync/") {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func TestColdThenUpToDate(t *testing.T) {
	tb := setup(t, map[string]string{"a.txt": "hello", "dir/b.HTML": "<p>", "img/x.JPG": "jpg"})
	s := tb.run(t, nil)
	if s.New != 3 || s.Modified != 0 || s.Deleted != 0 {
		t.Fatalf("cold: %+v", s)
	}
	objs := tb.objects(t)
	if got := keys(objs); strings.Join(got, ",") != "a.txt,dir/b.HTML,img/x.JPG" {
		t.Fatalf("objects: %v", got)
	}
	if objs["a.txt"] != "hello" {
		t.Fatalf("a.txt body %q", objs["a.txt"])
	}
	st, err := tb.b.Stat(context.Background(), "img/x.JPG")
	if err != nil {
		t.Fatal(err)
	}
	if st.ContentType != "image/jpeg" || st.Metadata[MetaBlob] != gitSHA("jpg") {
		t.Fatalf("x.JPG: type %q meta %v", st.ContentType, st.Metadata)
	}
	tb.src.fetched = map[string]int{}
	s2 := tb.run(t, nil)
	if !s2.UpToDate || s2.Unchanged != 3 || s2.New+s2.Modified+s2.Deleted != 0 {
		t.Fatalf("second run: %+v", s2)
	}
	if s2.StoreRequests["list"] != 0 || s2.StoreRequests["put"] != 0 || s2.StoreRequests["get"] > 1 {
		t.Fatalf("second run store requests: %v", s2.StoreRequests)
	}
	if tb.src.fetchCount() != 0 {
		t.Fatalf("second run fetched %d files", tb.src.fetchCount())
	}
}

func TestOneChangeUploadsOneObject(t *testing.T) {
	files := map[string]string{}
	for i := 0; i < 200; i++ {
		files[fmt.Sprintf("f/%03d.txt", i)] = fmt.Sprint("body ", i)
	}
	tb := setup(t, files)
	tb.run(t, nil)
	tb.src.set("f/100.txt", "changed")
	tb.src.fetched = map[string]int{}
	s := tb.run(t, nil)
	if s.Modified != 1 || s.New != 0 || s.Unchanged != 199 {
		t.Fatalf("summary: %+v", s)
	}
	// 3 puts: the intent (the overwritten key marked unknown before it is
	// overwritten, issue 16 item 2), the object, the manifest; and no
	// listing of the store. A sharded manifest (GHSYNC_TEST_SHARDED_MANIFEST)
	// adds the one shard holding the key, and the listing of the shard
	// folder its garbage collection makes (shardgc.go).
	puts, lists := 3, 0
	if m, err := ReadManifest(context.Background(), tb.b, DefaultManifestKey); err != nil {
		t.Fatal(err)
	} else if m.Version == ShardedManifestVersion {
		puts, lists = 4, 1
	}
	if s.StoreRequests["put"] != puts || s.StoreRequests["list"] != lists {
		t.Fatalf("want %d puts (intent + object + manifest) and %d lists, got %v", puts, lists, s.StoreRequests)
	}
	if tb.src.fetchCount() != 1 || tb.src.fetched["f/100.txt"] != 1 {
		t.Fatalf("fetched %v", tb.src.fetched)
	}
	if tb.objects(t)["f/100.txt"] != "changed" {
		t.Fatal("object not updated")
	}
}

func TestManagedDeleteLeavesForeignObjects(t *testing.T) {
	tb := setup(t, map[string]string{"a": "1", "b": "2", "c": "3"})
	tb.put(t, "foreign.txt", "someone else's")
	tb.run(t, nil)
	delete(tb.src.files, "b")
	s := tb.run(t, nil)
	if s.Deleted != 1 || s.Paths.Deleted[0] != "b" {
		t.Fatalf("summary: %+v", s)
	}
	got := keys(tb.objects(t))
	if strings.Join(got, ",") != "a,c,foreign.txt" {
		t.Fatalf("objects after delete: %v", got)
	}
}

func TestDeleteAllRespectsExcludes(t *testing.T) {
	tb := setup(t, map[string]string{"a": "1", "keep.map": "m"})
	tb.put(t, "stray.txt", "x")
	tb.put(t, "old.map", "excluded, so never deleted")
	s := tb.run(t, func(o *Options) {
		o.Delete = DeleteAll
		o.Filter.Exclude = []*regexp.Regexp{regexp.MustCompile(`\.map$`)}
	})
	if s.Deleted != 1 || s.New != 1 {
		t.Fatalf("summary: %+v", s)
	}
	if got := strings.Join(keys(tb.objects(t)), ","); got != "a,old.map" {
		t.Fatalf("objects: %s", got)
	}
}

func TestMaxDeleteGuard(t *testing.T) {
	files := map[string]string{}
	for i := 0; i < 40; i++ {
		files[fmt.Sprint("f", i)] = fmt.Sprint(i)
	}
	tb := setup(t, files)
	tb.run(t, nil)
	for i := 0; i < 25; i++ {
		delete(tb.src.files, fmt.Sprint("f", i))
	}
	tb.src.set("new", "n")
	_, err := tb.tryRun(t, nil)
	if !errors.Is(err, ErrTooManyDeletes) {
		t.Fatalf("want delete guard error, got %v", err)
	}
	if _, ok := tb.objects(t)["new"]; ok {
		t.Fatal("guarded run uploaded something")
	}
	if n := len(keys(tb.objects(t))); n != 40 {
		t.Fatalf("guarded run changed objects: %d", n)
	}
	s := tb.run(t, func(o *Options) { o.Force = true })
	if s.Deleted != 25 || s.New != 1 {
		t.Fatalf("forced: %+v", s)
	}
}

func TestAdoptsMatchingObjects(t *testing.T) {
	tb := setup(t, map[string]string{"a.txt": "same", "b.txt": "source", "c.txt": "new"})
	tb.put(t, "a.txt", "same")
	tb.put(t, "b.txt", "STALE!") // same size, other content
	s := tb.run(t, nil)
	if s.Adopted != 1 || s.New != 2 {
		t.Fatalf("summary: %+v", s)
	}
	if tb.objects(t)["b.txt"] != "source" {
		t.Fatal("b.txt not replaced")
	}
}

func TestVerifyRepairsDrift(t *testing.T) {
	tb := setup(t, map[string]string{"a": "1", "b": "2"})
	tb.run(t, nil)
	if err := tb.b.Delete(context.Background(), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	tb.put(t, "b", "tampered")
	if s := tb.run(t, nil); !s.UpToDate {
		t.Fatalf("without --verify the run must short-circuit: %+v", s)
	}
	s := tb.run(t, func(o *Options) { o.Verify = true })
	if s.Repaired != 2 {
		t.Fatalf("summary: %+v", s)
	}
	objs := tb.objects(t)
	if objs["a"] != "1" || objs["b"] != "2" {
		t.Fatalf("not repaired: %v", objs)
	}
	if s := tb.run(t, func(o *Options) { o.Verify = true }); s.Repaired != 0 || s.StoreRequests["put"] != 0 {
		t.Fatalf("verify after repair: %+v", s)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	tb := setup(t, map[string]string{"a": "1"})
	s := tb.run(t, func(o *Options) { o.DryRun = true })
	if s.New != 1 || !s.DryRun || s.StoreRequests["put"] != 0 {
		t.Fatalf("summary: %+v", s)
	}
	if len(tb.objects(t)) != 0 {
		t.Fatal("dry run wrote objects")
	}
}

func TestSymlinkPolicies(t *testing.T) {
	for _, tc := range []struct {
		policy string
		want   map[string]string
	}{
		{SymlinksSkip, map[string]string{"real.txt": "R"}},
		{SymlinksFollow, map[string]string{"real.txt": "R", "link": "R"}},
		{SymlinksObject, map[string]string{"real.txt": "R", "link": "real.txt", "out": "../etc/passwd"}},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			tb := setup(t, map[string]string{"real.txt": "R"})
			tb.src.link("link", "real.txt")
			tb.src.link("out", "../etc/passwd")
			tb.run(t, func(o *Options) { o.Symlinks = tc.policy })
			got := tb.objects(t)
			delete(got, DefaultManifestKey)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v want %v", got, tc.want)
			}
		})
	}
}

func TestContentTypeAndCacheControl(t *testing.T) {
	tb := setup(t, map[string]string{"index.html": "<html>", "assets/app.js": "x", "a.TIFF": "t"})
	tb.run(t, func(o *Options) {
		o.CacheControl = []GlobRule{{"*.html", "no-cache"}, {"assets/**", "public, max-age=31536000, immutable"}}
		o.ContentTypes = []GlobRule{{"assets/*.js", "application/javascript"}}
	})
	for key, want := range map[string][2]string{
		"index.html":    {"text/html; charset=utf-8", "no-cache"},
		"assets/app.js": {"application/javascript", "public, max-age=31536000, immutable"},
		"a.TIFF":        {"image/tiff", ""},
	} {
		a, err := tb.b.Stat(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if a.ContentType != want[0] || a.CacheControl != want[1] {
			t.Errorf("%s: type %q cache %q, want %q", key, a.ContentType, a.CacheControl, want)
		}
	}
}

func TestFailedRunConvergesAndKeepsManifest(t *testing.T) {
	files := map[string]string{}
	for i := 0; i < 30; i++ {
		files[fmt.Sprintf("f%02d", i)] = fmt.Sprint(i)
	}
	tb := setup(t, files)
	tb.src.failAt = "f15"
	if _, err := tb.tryRun(t, nil); err == nil {
		t.Fatal("want injected failure")
	}
	// The failed run left only its intent: every key it meant to create as
	// a placeholder, no commit, so nothing looks up to date.
	m, err := ReadManifest(context.Background(), tb.b, DefaultManifestKey)
	if err != nil || m == nil {
		t.Fatalf("intent manifest: %v", err)
	}
	if m.Commit != "" || m.Settings != "" || len(m.Objects) != 30 {
		t.Fatalf("after a failed run the manifest has commit %q, settings %q, %d objects; want an intent: no commit, 30 placeholders", m.Commit, m.Settings, len(m.Objects))
	}
	for _, o := range m.Objects {
		if o.Blob != "" {
			t.Fatalf("intent entry %+v has a blob: a failed run must not record content as synced", o)
		}
	}
	tb.src.failAt = ""
	s := tb.run(t, nil)
	if s.New+s.Adopted != 30 {
		t.Fatalf("summary: %+v", s)
	}
	if got := len(keys(tb.objects(t))); got != 30 {
		t.Fatalf("objects: %d", got)
	}
}

// A run that fails half-way after uploading new files, followed by the
// files' deletion from the source: the next run deletes them. Without the
// intent record they were in no manifest and stayed in the bucket for ever
// (found by e2e TestFaultyStoreConverges under load).
func TestFailedRunLeavesNoOrphans(t *testing.T) {
	tb := setup(t, map[string]string{"keep": "k"})
	tb.run(t, nil)
	for i := 0; i < 10; i++ {
		tb.src.set(fmt.Sprintf("n%02d", i), fmt.Sprint("new ", i))
	}
	tb.src.failAt = "n05" // n00…n04 are uploaded, then the run fails
	if _, err := tb.tryRun(t, nil); err == nil {
		t.Fatal("want injected failure")
	}
	if _, ok := tb.objects(t)["n00"]; !ok {
		t.Fatal("test setup: n00 was not uploaded before the failure")
	}
	tb.src.failAt = ""
	for i := 0; i < 10; i++ {
		delete(tb.src.files, fmt.Sprintf("n%02d", i))
	}
	s := tb.run(t, nil)
	got := keys(tb.objects(t))
	if len(got) != 1 || s.Deleted != 5 {
		t.Fatalf("after the source dropped the new files: objects %v, %d deleted; want [keep], 5 deleted (summary %+v)", got, s.Deleted, s)
	}
	if s2 := tb.run(t, nil); !s2.UpToDate {
		t.Fatalf("next run not up to date: %+v", s2)
	}
}

// raceSource runs a whole other sync while the outer one is fetching.
type raceSource struct {
	*memSource
	inner func()
	once  bool
}

func (r *raceSource) Fetch(ctx context.Context, es []source.Entry, c int, fn source.FetchFunc) error {
	if !r.once {
		r.once = true
		r.inner()
	}
	return r.memSource.Fetch(ctx, es, c, fn)
}

func TestOverlappingRunsOnlyOneWins(t *testing.T) {
	tb := setup(t, map[string]string{"a": "1"})
	rs := &raceSource{memSource: tb.src}
	rs.inner = func() {
		if _, err := tb.tryRun(t, nil); err != nil {
			t.Errorf("inner run: %v", err)
		}
	}
	_, err := tb.tryRun(t, func(o *Options) { o.Source = rs })
	if !errors.Is(err, ErrConcurrentRun) {
		t.Fatalf("outer run: want ErrConcurrentRun, got %v", err)
	}
}

// Switching the delete policy to all applies at once, even when the source
// did not move.
func TestDeletePolicyChangeAppliesWithoutNewCommit(t *testing.T) {
	tb := setup(t, map[string]string{"a": "1"})
	tb.run(t, nil)
	tb.put(t, "stray.txt", "x")
	if s := tb.run(t, nil); !s.UpToDate {
		t.Fatalf("managed re-run should be up to date: %+v", s)
	}
	s := tb.run(t, func(o *Options) { o.Delete = DeleteAll })
	if s.UpToDate || s.Deleted != 1 {
		t.Fatalf("delete all: %+v", s)
	}
	if got := strings.Join(keys(tb.objects(t)), ","); got != "a" {
		t.Fatalf("objects: %s", got)
	}
}
