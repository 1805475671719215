//go:build integration

package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/reposync"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

// The git one-change fast path (issue 20: a checkout source whose commit
// diff says what changed; the run reads and writes only the manifest shards
// holding the change) under kill -9 at every request of a delta run, on the
// real S3 server. After each kill the manifest claims nothing untrue (every
// blob and ETag it records is what the store holds; no object lies outside
// it), and the next run converges: the store equals the source and the
// manifest records exactly it.

// deltaManifestKey is the default manifest key.
const deltaManifestKey = ".ghsync/manifest.json"

// killProxy forwards requests to an S3 endpoint and counts them. The
// request numbered stopAt is held: before it reaches the server (after is
// false), or once the server has acted on it and answered (after is true,
// the answer held back). The held request's description is sent on
// reached; it stays held until the client goes away (the test kills it).
type killProxy struct {
	srv     *httptest.Server
	rp      *httputil.ReverseProxy
	mu      sync.Mutex
	n       int
	stopAt  int
	after   bool
	seq     []string
	reached chan string
	release chan struct{}            // closed: a held request (before) is forwarded after all
	match   func(*http.Request) bool // holdFirst's predicate
	closed  chan struct{}            // closed at cleanup: releases what is still held
}

func newKillProxy(t *testing.T, upstream string) *killProxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	p := &killProxy{rp: httputil.NewSingleHostReverseProxy(u)} // the Host header stays the signed one
	p.rp.ModifyResponse = func(resp *http.Response) error {
		if held, _ := resp.Request.Context().Value(heldKey{}).(string); held != "" {
			p.reached <- held + " (acted on, answer held)"
			select {
			case <-resp.Request.Context().Done():
			case <-p.closed:
			}
			return errors.New("answer held back")
		}
		return nil
	}
	p.rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) { w.WriteHeader(http.StatusBadGateway) }
	p.closed = make(chan struct{})
	p.srv = httptest.NewServer(p)
	t.Cleanup(func() { close(p.closed); p.srv.Close() })
	return p
}

type heldKey struct{}

// arm makes the next client's request number stopAt (1-based; 0: none) the held one.
func (p *killProxy) arm(stopAt int, after bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n, p.stopAt, p.after, p.seq, p.match = 0, stopAt, after, nil, nil
	p.reached, p.release = make(chan string, 1), make(chan struct{})
}

// holdFirst makes the next client's first request that match accepts the
// held one (before it reaches the server); closing the returned channel
// forwards it.
func (p *killProxy) holdFirst(match func(*http.Request) bool) chan struct{} {
	p.arm(0, false)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.match = match
	return p.release
}

func (p *killProxy) sequence() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seq...)
}

func (p *killProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.n++
	desc := fmt.Sprintf("#%d %s %s", p.n, r.Method, r.URL.Path)
	if r.URL.RawQuery != "" {
		desc += "?" + r.URL.RawQuery
	}
	p.seq = append(p.seq, desc)
	stop := p.n == p.stopAt || (p.match != nil && p.match(r))
	if stop {
		p.match = nil // once
	}
	after, reached, release := p.after, p.reached, p.release
	p.mu.Unlock()
	switch {
	case stop && !after:
		// Read the body first: the server notices the client going away
		// (and cancels the request's context) only once it has been read.
		body, _ := io.ReadAll(r.Body)
		reached <- desc + " (not forwarded)"
		select {
		case <-r.Context().Done():
			return
		case <-p.closed:
			return
		case <-release:
			r.Body = io.NopCloser(bytes.NewReader(body)) // forwarded late
		}
	case stop:
		r = r.WithContext(context.WithValue(r.Context(), heldKey{}, desc))
	}
	p.rp.ServeHTTP(w, r)
}

// deltaTree is a git checkout the tests commit to, with every content any
// commit held, by blob SHA (to check a recorded ETag against the bytes of
// the recorded blob without reading the object).
type deltaTree struct {
	t     *testing.T
	dir   string
	files map[string][]byte
	blobs map[string][]byte // blob SHA → content
	rng   *rand.Rand
	n     int
}

func newDeltaTree(t *testing.T, files int, seed uint64) *deltaTree {
	t.Helper()
	d := &deltaTree{t: t, dir: t.TempDir(), files: map[string][]byte{}, blobs: map[string][]byte{}, rng: rand.New(rand.NewPCG(seed, 7))}
	gitCmd(t, d.dir, "init", "-q", "-b", "main")
	for i := 0; i < files; i++ {
		d.set(fmt.Sprintf("d%02d/f%05d.txt", i*20/files, i), []byte(fmt.Sprintf("file %d\n", i)))
	}
	d.commit()
	return d
}

func (d *deltaTree) set(name string, body []byte) {
	p := filepath.Join(d.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		d.t.Fatal(err)
	}
	if err := os.WriteFile(p, body, 0o644); err != nil {
		d.t.Fatal(err)
	}
	d.files[name] = body
	d.blobs[githubtest.GitBlobSHA(body)] = body
}

func (d *deltaTree) remove(name string) {
	if err := os.Remove(filepath.Join(d.dir, filepath.FromSlash(name))); err != nil {
		d.t.Fatal(err)
	}
	delete(d.files, name)
}

func (d *deltaTree) commit() {
	gitCmd(d.t, d.dir, "add", "-A")
	gitCmd(d.t, d.dir, "commit", "-q", "--allow-empty", "-m", "change")
}

// change commits a change kept within the first twentieth of the keys (so
// it touches few of the manifest's shards): one file modified, one added,
// one deleted, one renamed.
func (d *deltaTree) change() {
	var names []string
	for k := range d.files {
		if strings.HasPrefix(k, "d00/") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	d.rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	d.n++
	d.set(names[0], []byte(fmt.Sprintf("modified in change %d\n", d.n)))
	d.set(fmt.Sprintf("d00/new%04d.txt", d.n), []byte(fmt.Sprintf("added in change %d\n", d.n)))
	d.remove(names[1])
	body := d.files[names[2]]
	d.remove(names[2])
	d.set(fmt.Sprintf("d00/renamed%04d.txt", d.n), body)
	d.commit()
}

// deltaSync runs `ghsync sync CHECKOUT URL` and returns its exit code and
// output. With kill, it waits for the proxy to hold its request and kills
// the process (SIGKILL); killed says whether that happened before the run
// ended by itself.
func deltaSync(t *testing.T, bin, dir, dest string, p *killProxy) (code int, out string, killed string) {
	t.Helper()
	cmd := exec.Command(bin, "sync", dir, dest, "--concurrency", "1", "--max-delete", "100%", "--log-level", "debug")
	cmd.Env = s3Env()
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var reached chan string
	if p != nil {
		p.mu.Lock()
		reached = p.reached
		p.mu.Unlock()
	}
	var err error
	select {
	case err = <-done:
	case killed = <-reached:
		if kerr := cmd.Process.Kill(); kerr != nil {
			t.Fatal(kerr)
		}
		err = <-done
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("ghsync sync hung\n%s", buf.String())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, buf.String(), killed
}

// storeListing lists b: key → object.
func storeListing(t *testing.T, b *store.Bucket) map[string]store.Object {
	t.Helper()
	out := map[string]store.Object{}
	if err := b.List(context.Background(), func(o store.Object) error {
		out[o.Key] = o
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// checkDeltaHonest returns what the manifest under b claims untruly: an
// entry whose ETag is not the stored object's, or whose blob's bytes are
// not what the store holds (by MD5, these objects being single-part), and
// a stored object outside every entry.
func checkDeltaHonest(t *testing.T, b *store.Bucket, blobs map[string][]byte) (*reposync.Manifest, map[string]store.Object, []string) {
	t.Helper()
	m, err := reposync.ReadManifest(context.Background(), b, deltaManifestKey)
	if err != nil || m == nil {
		return nil, nil, []string{fmt.Sprintf("manifest: %v (present %v)", err, m != nil)}
	}
	listing := storeListing(t, b)
	var fails []string
	named := map[string]bool{}
	for _, ob := range m.Objects {
		named[ob.Key] = true
		if ob.Blob == "" {
			continue // a placeholder claims nothing
		}
		st, ok := listing[ob.Key]
		body, known := blobs[ob.Blob]
		switch {
		case !ok:
			fails = append(fails, fmt.Sprintf("manifest claims %s (blob %.12s), the store has no such object", ob.Key, ob.Blob))
		case st.ETag != ob.ETag:
			fails = append(fails, fmt.Sprintf("manifest records %s with ETag %s, the store's is %s", ob.Key, ob.ETag, st.ETag))
		case !known:
			fails = append(fails, fmt.Sprintf("manifest claims %s = blob %.12s, which no commit held", ob.Key, ob.Blob))
		case strings.Trim(st.ETag, `"`) != md5Hex(body) || st.Size != int64(len(body)) || ob.Size != st.Size:
			fails = append(fails, fmt.Sprintf("manifest claims %s = blob %.12s (%d bytes), the store holds other bytes (ETag %s, %d bytes)",
				ob.Key, ob.Blob, ob.Size, st.ETag, st.Size))
		}
	}
	for k := range listing {
		if !strings.HasPrefix(k, ".ghsync/") && !isServerUploadTemp(k) && !named[k] {
			fails = append(fails, fmt.Sprintf("object %s is outside every manifest entry", k))
		}
	}
	sort.Strings(fails)
	return m, listing, fails
}

// checkDeltaExact returns how the store and manifest under b differ from
// files: the same keys with the same bytes, every manifest entry exact
// (blob, size, the store's ETag), nothing pending, every named shard present.
func checkDeltaExact(t *testing.T, b *store.Bucket, files, blobs map[string][]byte) []string {
	t.Helper()
	m, listing, fails := checkDeltaHonest(t, b, blobs)
	if m == nil {
		return fails
	}
	for k, st := range listing {
		if strings.HasPrefix(k, ".ghsync/") || isServerUploadTemp(k) {
			continue
		}
		want, ok := files[k]
		if !ok {
			fails = append(fails, "store holds "+k+", which the source does not")
		} else if strings.Trim(st.ETag, `"`) != md5Hex(want) {
			fails = append(fails, fmt.Sprintf("store holds other bytes than the source at %s", k))
		}
	}
	seen := map[string]bool{}
	for _, ob := range m.Objects {
		seen[ob.Key] = true
		want, ok := files[ob.Key]
		switch {
		case !ok:
			fails = append(fails, "manifest records "+ob.Key+", which the source does not hold")
		case ob.Blob != githubtest.GitBlobSHA(want):
			fails = append(fails, fmt.Sprintf("manifest records %s as blob %.12s, the source has %.12s", ob.Key, ob.Blob, githubtest.GitBlobSHA(want)))
		}
	}
	for k := range files {
		if !seen[k] {
			fails = append(fails, "manifest misses "+k)
		} else if _, ok := listing[k]; !ok {
			fails = append(fails, "source file "+k+" is missing from the store")
		}
	}
	if len(m.Pending) > 0 {
		fails = append(fails, fmt.Sprintf("%d keys still pending", len(m.Pending)))
	}
	for _, r := range m.Shards {
		if _, ok := listing[deltaManifestKey+".d/"+r.Name+".json.gz"]; !ok {
			fails = append(fails, "the manifest names shard "+r.Name+", which is missing")
		}
	}
	sort.Strings(fails)
	return fails
}

// deltaFixtureS3 makes a checkout of files files and mirrors it cold into
// a fresh S3 bucket under site/; it returns the tree, the direct bucket
// URL and an open bucket. The manifest must be sharded in several shards.
func deltaFixtureS3(t *testing.T, bin string, files int, seed uint64) (*deltaTree, string, *store.Bucket) {
	t.Helper()
	tree := newDeltaTree(t, files, seed)
	direct := strings.Replace(s3test.Bucket(t), "/?", "/site/?", 1)
	b, err := store.Open(context.Background(), direct, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if code, out, _ := deltaSync(t, bin, tree.dir, direct, nil); code != 0 {
		t.Fatalf("cold run: exit %d\n%s", code, tail(out))
	}
	m, err := reposync.ReadManifest(context.Background(), b, deltaManifestKey)
	if err != nil || m == nil || len(m.Shards) < 3 {
		t.Fatalf("cold run: manifest %v, %v; want a sharded manifest of at least 3 shards", m != nil, err)
	}
	if fails := checkDeltaExact(t, b, tree.files, tree.blobs); len(fails) > 0 {
		t.Fatalf("after the cold run: %s", strings.Join(fails, "\n"))
	}
	return tree, direct, b
}

// tookDelta reports whether a run's log says it synced on the delta path.
func tookDelta(out string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "msg=synced") && strings.Contains(l, "delta=true") {
			return true
		}
	}
	return false
}

// TestDeltaCrashAtEveryRequest kills a delta run (SIGKILL) at every
// request it makes, before the request reaches the store and after the
// store acted on it (its answer held back): reading the root and shards,
// the intent, each upload, the deletes, each new shard, the root, the
// deletion of replaced shards, the shard listing. After each kill the
// manifest claims nothing untrue; the next run converges exactly.
func TestDeltaCrashAtEveryRequest(t *testing.T) {
	bin := binary(t)
	tree, direct, b := deltaFixtureS3(t, bin, 4000, 11)
	p := newKillProxy(t, s3test.Endpoint(t))
	via := s3Via(t, direct, p.srv.URL)

	// One delta run through the proxy, unkilled: the request sequence.
	tree.change()
	p.arm(0, false)
	code, out, _ := deltaSync(t, bin, tree.dir, via, p)
	if code != 0 || !tookDelta(out) {
		t.Fatalf("calibration run: exit %d, delta %v\n%s", code, tookDelta(out), tail(out))
	}
	seq := p.sequence()
	t.Logf("a delta run makes %d requests:\n%s", len(seq), strings.Join(seq, "\n"))
	if fails := checkDeltaExact(t, b, tree.files, tree.blobs); len(fails) > 0 {
		t.Fatalf("after the calibration run: %s", strings.Join(fails, "\n"))
	}

	kills, deltaAfter := 0, 0
	for stop := 1; stop <= len(seq)+2; stop++ {
		for _, after := range []bool{false, true} {
			tree.change()
			p.arm(stop, after)
			code, out, killed := deltaSync(t, bin, tree.dir, via, p)
			if killed == "" {
				if code != 0 {
					t.Fatalf("run with request %d held (after %v) was not killed and exited %d\n%s", stop, after, code, tail(out))
				}
				continue
			}
			kills++
			if _, _, fails := checkDeltaHonest(t, b, tree.blobs); len(fails) > 0 {
				t.Fatalf("killed at %s: the manifest lies:\n%s", killed, strings.Join(fails, "\n"))
			}
			code, out, _ = deltaSync(t, bin, tree.dir, direct, nil)
			if code != 0 {
				t.Fatalf("killed at %s; the next run exited %d\n%s", killed, code, tail(out))
			}
			if tookDelta(out) {
				deltaAfter++
			}
			if fails := checkDeltaExact(t, b, tree.files, tree.blobs); len(fails) > 0 {
				t.Fatalf("killed at %s; after the next run:\n%s", killed, strings.Join(fails, "\n"))
			}
		}
	}
	t.Logf("%d delta runs killed, one at each request; every next run converged (%d of them on the delta path again)", kills, deltaAfter)
	if kills < 2*len(seq)-4 {
		t.Fatalf("only %d kills landed for a %d-request run", kills, len(seq))
	}
}
