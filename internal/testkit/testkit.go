// Package testkit holds helpers shared by ghsync's tests: the ghsync binary
// built once per test process, a headless Chromium, a goroutine-safe output
// buffer for child processes, and a bucket holding a status snapshot. Only
// tests import it.
package testkit

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/store"

	"github.com/chromedp/chromedp"
)

// EnvRequireBrowser=1 turns a missing chromium into a failure (CI sets it).
const EnvRequireBrowser = "GHSYNC_REQUIRE_BROWSER"

var (
	buildOnce sync.Once
	binPath   string
	buildOut  string
	buildErr  error
	ownedDir  string // a directory testkit made and Main removes (not go test's work dir)
)

// Ghsync returns the path of the ghsync binary built from ./cmd/ghsync, or
// fails the test with the compiler's output.
//
// The binary is built once per `go test` invocation, with the environment
// `go test` itself runs with (no CGO_ENABLED or compiler flag changes), so it
// reuses the packages `go test` just compiled instead of compiling the world
// again; only the link differs (no DWARF debug tables).
// It is placed in go test's own work directory ($WORK, the parent of the
// directory holding the test binary), which the go command deletes when the
// invocation ends; test processes of other packages in the same invocation
// find it there (a file lock makes one build while the others wait). A test
// binary started outside `go test` builds into a temporary directory that
// Main removes.
func Ghsync(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() { binPath, buildOut, buildErr = build() })
	if buildErr != nil {
		t.Fatalf("build ghsync: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

// build builds the binary into the shared directory (see Ghsync).
func build() (path, out string, err error) {
	dir, shared := goTestWorkDir()
	if !shared {
		if dir, err = os.MkdirTemp("", "ghsync-test-bin"); err != nil {
			return "", "", err
		}
		ownedDir = dir
	}
	path = filepath.Join(dir, "ghsync-testkit", "ghsync")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", "", err
	}
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return "", "", err
	}
	defer unlock()
	if _, err := os.Stat(path + ".ok"); err == nil {
		return path, "", nil // another package of this invocation built it
	}
	// -ldflags=-w: no DWARF tables (no test debugs the binary; stack traces
	// keep file:line), a third less linking.
	b, err := exec.Command("go", "build", "-ldflags=-w", "-o", path, "github.com/ghsync/ghsync/cmd/ghsync").CombinedOutput()
	if err != nil {
		return "", string(b), err
	}
	return path, string(b), os.WriteFile(path+".ok", nil, 0o644)
}

// goTestWorkDir returns go test's work directory ($WORK/bNNN/pkg.test's
// $WORK) when this process is a test binary run by `go test`.
func goTestWorkDir() (string, bool) {
	exe, err := os.Executable()
	if err != nil {
		return "", false
	}
	work := filepath.Dir(filepath.Dir(exe))
	if !strings.HasPrefix(filepath.Base(work), "go-build") || !strings.HasSuffix(exe, ".test") {
		return "", false
	}
	return work, true
}

// Main runs a package's tests and removes what testkit left behind; call it
// from TestMain in every package that uses Ghsync:
//
//	func TestMain(m *testing.M) { testkit.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// Cleanup removes the binary's directory when testkit created it (a binary
// in go test's work directory is removed by the go command).
func Cleanup() {
	if ownedDir != "" {
		_ = os.RemoveAll(ownedDir)
	}
}

// Browser starts headless Chromium (closed at cleanup) with a deadline of
// timeout, or skips loudly — fails when GHSYNC_REQUIRE_BROWSER=1 — when no
// chromium is installed.
func Browser(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		msg := "SKIP: no chromium on PATH (install Debian's chromium: apt-get install -y chromium)"
		if os.Getenv(EnvRequireBrowser) == "1" {
			t.Fatal(strings.Replace(msg, "SKIP: ", "FATAL ("+EnvRequireBrowser+"=1): ", 1))
		}
		t.Log("!!!!!!!! " + msg + " !!!!!!!!")
		t.Skip(msg)
	}
	tmp := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		// Chromium's own temporary files (org.chromium.Chromium.*) and its
		// profile go to the test's directory, removed at cleanup, not /tmp.
		chromedp.UserDataDir(filepath.Join(tmp, "profile")), chromedp.Env("TMPDIR=" + tmp),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// SyncBuffer collects a child process's output; safe for concurrent writes.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// SnapshotBucket returns an in-memory bucket holding the JSON file at path
// gzip-compressed under key, as `ghsync statuses` writes a snapshot.
func SnapshotBucket(t testing.TB, path, key string) *store.Bucket {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	ctx := context.Background()
	b, err := store.Open(ctx, "mem://", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if _, err := b.Put(ctx, key, &z, store.PutOptions{ContentType: "application/json", ContentEncoding: "gzip"}); err != nil {
		t.Fatal(err)
	}
	return b
}
