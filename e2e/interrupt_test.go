package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/cli"
	"github.com/ghsync/ghsync/internal/githubtest"
)

// holdingProxy forwards to the fake GitHub; while holding, every content
// download (blob, tarball, codeload) is held until the client gives up, and
// the first one held is announced on reached. The test knows the sync is
// mid-run without guessing a delay.
type holdingProxy struct {
	*httptest.Server
	holding atomic.Bool
	held    atomic.Int32 // requests being held now
	reached chan string
}

// settle waits until no request of an earlier run is held, then forgets
// their announcements, so the next run's first held request is its own.
func (p *holdingProxy) settle(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); p.held.Load() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("requests of an earlier run are still held a minute after it ended")
		}
	}
	for {
		select {
		case <-p.reached:
		default:
			return
		}
	}
}

func newHoldingProxy(t *testing.T, target string) *holdingProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &holdingProxy{reached: make(chan string, 1)}
	p.holding.Store(true)
	rp := httputil.NewSingleHostReverseProxy(u)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		content := strings.Contains(r.URL.Path, "/git/blobs/") || strings.Contains(r.URL.Path, "/tarball/") ||
			strings.Contains(r.URL.Path, "/zipball/") || strings.Contains(r.URL.Path, "/_codeload")
		if content && p.holding.Load() {
			p.held.Add(1)
			defer p.held.Add(-1)
			select {
			case p.reached <- r.URL.Path:
			default:
			}
			<-r.Context().Done() // the client went away (interrupted)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// runUntilHeld starts the binary with args, waits until it is held on a
// content download, sends sig and returns its exit code and output. A run
// that never reaches a download, or does not stop after the signal, fails
// the test after a minute (a hang guard, not a timing assertion).
func runUntilHeld(t *testing.T, p *holdingProxy, env []string, sig os.Signal, args ...string) result {
	t.Helper()
	p.settle(t)
	cmd := exec.Command(binary(t), args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-p.reached:
	case err := <-done:
		t.Fatalf("the run ended before it fetched any content (%v)\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("the run never fetched content")
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("still running a minute after %v\nstderr:\n%s", sig, errb.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// Ctrl-C during a sync: exit 130, "interrupted; the next run converges" on
// stderr and no Go error chain; with --json the one JSON object says so too;
// the next run converges to exactly the source (it used to exit 1 with
// "context canceled").
func TestInterruptedSyncExits130AndConverges(t *testing.T) {
	gh := githubtest.New(t, githubtest.Options{})
	files := map[string]string{}
	for i := 0; i < 40; i++ {
		files[fmt.Sprintf("docs/page%02d.md", i)] = strings.Repeat(fmt.Sprintf("page %d\n", i), 50+i)
	}
	gh.AddRepo("acme", "site").Commit("main", files)
	p := newHoldingProxy(t, gh.URL)
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "GITHUB_API_URL=" + p.URL + "/"}
	dst := "file://" + dir + "/out"
	sync := []string{"sync", "github:acme/site@main", dst}

	r := runUntilHeld(t, p, env, os.Interrupt, sync...)
	if r.code != 130 {
		t.Fatalf("exit %d after Ctrl-C, want 130\nstderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "ghsync: "+cli.InterruptedMessage) {
		t.Errorf("stderr does not say %q:\n%s", cli.InterruptedMessage, r.stderr)
	}
	if strings.Contains(r.stderr, "context canceled") {
		t.Errorf("stderr shows the Go error chain:\n%s", r.stderr)
	}

	r = runUntilHeld(t, p, env, os.Interrupt, append(sync, "--json")...)
	var sum map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("--json: stdout is not one JSON object (%v):\n%s", err, r.stdout)
	}
	if r.code != 130 || sum["error"] != cli.InterruptedMessage || sum["interrupted"] != true {
		t.Fatalf("--json after Ctrl-C: exit %d, object %v", r.code, sum)
	}

	p.holding.Store(false)
	r = exe(t, dir, map[string]string{"GITHUB_API_URL": p.URL + "/"}, sync...)
	if r.code != 0 {
		t.Fatalf("the next run: exit %d\n%s", r.code, r.stderr)
	}
	got := map[string]string{}
	root := filepath.Join(dir, "out")
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".attrs") || strings.Contains(path, ".ghsync") {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(root, path)
		got[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if len(got) != len(files) {
		t.Fatalf("the store holds %d files after the next run, the source %d", len(got), len(files))
	}
	for k, v := range files {
		if got[k] != v {
			t.Fatalf("%s differs from the source after the next run", k)
		}
	}
}

// A failed inbox run with --json: stdout is one JSON object with the poll's
// summary and a top-level "error" (the README's promise), exit 1.
func TestFailedInboxRunJSONHasError(t *testing.T) {
	dir := t.TempDir()
	set := filepath.Join(dir, "uploads", "E07000223", "2026-05-07", "1700000000")
	if err := os.MkdirAll(set, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"dc_districts.csv", "dc_stations.csv"} {
		b, err := os.ReadFile(filepath.Join("..", "internal", "inbox", "testdata", "files", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(set, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"detail":"bad council"}`, http.StatusBadRequest) // fails at once, no retries
	}))
	defer callback.Close()
	cfg := filepath.Join(dir, "ghsync.yaml")
	os.WriteFile(cfg, []byte(`database: sqlite://`+dir+`/ghsync.db
jobs:
  - name: uploads
    kind: inbox
    watch: file://`+dir+`/uploads/
    callback:
      url: `+callback.URL+`/api/uploads/
      token: t0ken
`), 0o644)
	r := exe(t, dir, nil, "run", "uploads", "--config", cfg, "--json")
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("stdout is not one JSON object (%v):\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	msg, _ := m["error"].(string)
	if r.code != 1 || !strings.Contains(msg, "callback") {
		t.Fatalf("exit %d, error %q; want exit 1 and a top-level error naming the callback\n%s", r.code, msg, r.stdout)
	}
	if _, ok := m["processed"]; !ok {
		t.Errorf("the poll's summary is gone from the object: %v", m)
	}
}
