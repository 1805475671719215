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
)

// Ghsync builds ./cmd/ghsync once per test process and returns the path of
// the binary; a build failure fails the test with the compiler's output.
func Ghsync(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ghsync-test-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ghsync")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/ghsync/ghsync/cmd/ghsync").CombinedOutput()
		buildOut, buildErr = string(out), err
	})
	if buildErr != nil {
		t.Fatalf("build ghsync: %v\n%s", buildErr, buildOut)
	}
	return binPath
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
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
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
