//go:build integration

package e2e

import (
	"bytes"
	"context"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/reposync"
	"github.com/ghsync/ghsync/internal/s3test"
)

// TestDeltaLateShardDeleteAfterRevert: run A changes one file and commits
// its root; its deletion of the shard that root replaced (dropShards) is
// slow (held here; in the field, a lost answer retried after a pause). Run
// B meanwhile reverts the file: the shard it writes has the very content,
// so the very name, of the shard A is deleting, and B's root names it. A's
// late delete must not leave B's root naming a missing shard: the manifest
// must stay readable and the next run must converge. (Shard names carry a
// per-write nonce, so B's shard is stored under a name A never deleted.)
func TestDeltaLateShardDeleteAfterRevert(t *testing.T) {
	bin := binary(t)
	tree, direct, b := deltaFixtureS3(t, bin, 4000, 31)
	p := newKillProxy(t, s3test.Endpoint(t))
	via := s3Via(t, direct, p.srv.URL)

	var name string
	for k := range tree.files {
		if strings.HasPrefix(k, "d00/") && (name == "" || k < name) {
			name = k
		}
	}
	v1 := tree.files[name]
	tree.set(name, []byte("changed by run A\n"))
	tree.commit()
	release := p.holdFirst(func(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Query().Has("delete") })
	done, _ := startHeldRun(t, p, bin, tree.dir, via, "deleting a replaced shard")
	// Run B: back to v1.
	tree.set(name, v1)
	tree.commit()
	code, bout, _ := deltaSync(t, bin, tree.dir, direct, nil)
	if code != 0 || !tookDelta(bout) {
		t.Fatalf("run B: exit %d, delta %v\n%s", code, tookDelta(bout), tail(bout))
	}
	close(release) // A's delete of the replaced shard arrives now
	select {
	case err := <-done:
		t.Logf("run A ended: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("run A hung")
	}
	if _, err := reposync.ReadManifest(context.Background(), b, deltaManifestKey); err != nil {
		t.Errorf("after run A's late delete the manifest cannot be read: %v", err)
	}
	code, cout, _ := deltaSync(t, bin, tree.dir, direct, nil)
	if code != 0 {
		t.Fatalf("the next run exited %d:\n%s", code, tail(cout))
	}
	if fails := checkDeltaExact(t, b, tree.files, tree.blobs); len(fails) > 0 {
		t.Fatalf("after the next run:\n%s", strings.Join(fails, "\n"))
	}
}

// TestTwoDeltaRunsAtOnceS3: two delta runs of different commits on the S3
// server, the first held just before its intent write (both have read the
// same root). The second commits; the first's intent, then sent, must fail
// its If-Match against the root it read: it exits 1 saying another run
// wrote the manifest first, uploads nothing, and the store holds the
// second run's commit exactly.
func TestTwoDeltaRunsAtOnceS3(t *testing.T) {
	bin := binary(t)
	tree, direct, b := deltaFixtureS3(t, bin, 4000, 41)
	p := newKillProxy(t, s3test.Endpoint(t))
	via := s3Via(t, direct, p.srv.URL)

	tree.change() // commit 2, for run A
	release := p.holdFirst(func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/"+deltaManifestKey)
	})
	done, out := startHeldRun(t, p, bin, tree.dir, via, "writing its intent")
	tree.change() // commit 3, for run B
	code, bout, _ := deltaSync(t, bin, tree.dir, direct, nil)
	if code != 0 || !tookDelta(bout) {
		t.Fatalf("run B: exit %d, delta %v\n%s", code, tookDelta(bout), tail(bout))
	}
	close(release)
	var err error
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("run A hung")
	}
	ee, _ := err.(*exec.ExitError)
	if ee == nil || ee.ExitCode() != 1 || !strings.Contains(out.String(), "another run of this job wrote the manifest first") {
		t.Fatalf("run A: %v, want exit 1 saying another run wrote the manifest first\n%s", err, tail(out.String()))
	}
	for _, r := range p.sequence() {
		if strings.HasPrefix(strings.SplitN(r, " ", 2)[1], "PUT") && !strings.Contains(r, deltaManifestKey+"?") {
			t.Fatalf("run A wrote %s, though it could not write its intent", r)
		}
	}
	if fails := checkDeltaExact(t, b, tree.files, tree.blobs); len(fails) > 0 {
		t.Fatalf("after both runs:\n%s", strings.Join(fails, "\n"))
	}
}

// startHeldRun starts run A (ghsync sync dir via, one upload at a time)
// and waits until the proxy holds the request it was set to hold; what
// names that request for the failure message. It returns the channel the
// run's exit arrives on and its output.
func startHeldRun(t *testing.T, p *killProxy, bin, dir, via, what string) (<-chan error, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, "sync", dir, via, "--concurrency", "1", "--log-level", "debug")
	cmd.Env = s3Env()
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case held := <-p.reached:
		t.Logf("run A holds %s", held)
	case err := <-done:
		t.Fatalf("run A ended without %s: %v\n%s", what, err, tail(out.String()))
	case <-time.After(2 * time.Minute):
		t.Fatal("run A hung")
	}
	return done, out
}
