package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// ttySync runs `ghsync sync` of a folder of n files in-process as on a
// terminal (IsTTY), returning the exit code and everything written to stderr.
func ttySync(t *testing.T, n int, extra ...string) (int, string) {
	t.Helper()
	src := t.TempDir()
	for i := range n {
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("f%03d.txt", i)), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, errb bytes.Buffer
	args := append([]string{"sync", "dir:" + src, "file://" + t.TempDir()}, extra...)
	code := Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb, IsTTY: true,
		Getenv: func(string) string { return "" }})
	return code, errb.String()
}

// A log line written while the progress line is shown starts on a cleared
// line: the progress line is erased first and drawn again after it.
func TestProgressLineClearedBeforeLogLines(t *testing.T) {
	code, stderr := ttySync(t, 50, "--log-level", "debug")
	if code != 0 {
		t.Fatalf("exit %d: %q", code, stderr)
	}
	if !strings.Contains(stderr, "uploaded 50/50 objects") {
		t.Fatalf("no progress line on a terminal: %q", stderr)
	}
	if !strings.Contains(stderr, "msg=synced") {
		t.Fatalf("no log line: %q", stderr)
	}
	// Every log record begins at the start of a line: after a newline or
	// after the erase sequence, never after progress text.
	for _, m := range regexp.MustCompile(`(?s)(.{0,12})time=`).FindAllStringSubmatch(stderr, -1) {
		if before := m[1]; before != "" && !strings.HasSuffix(before, "\n") && !strings.HasSuffix(before, "\r\033[K") {
			t.Errorf("log record written after %q (progress not cleared first):\n%q", before, stderr)
		}
	}
	if !strings.HasSuffix(stderr, "\r\033[K") {
		t.Errorf("progress line not cleared at the end: %q", stderr)
	}
}

// --quiet: no progress line at all.
func TestQuietSuppressesProgress(t *testing.T) {
	code, stderr := ttySync(t, 20, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %q", code, stderr)
	}
	if strings.Contains(stderr, "uploaded") || strings.Contains(stderr, "\033[K") {
		t.Errorf("--quiet printed progress: %q", stderr)
	}
}

func TestProgressLineRateAndETA(t *testing.T) {
	for _, c := range []struct {
		done, total int
		bytes       int64
		elapsed     time.Duration
		want        string
	}{
		{50, 100, 5e6, 10 * time.Second, "uploaded 50/100 objects, 5.0 MB, 0.5 MB/s, ETA 10s"},
		{100, 100, 5e6, 10 * time.Second, "uploaded 100/100 objects, 5.0 MB, 0.5 MB/s"},
		{1, 100, 0, 0, "uploaded 1/100 objects, 0.0 MB"},
	} {
		if got := progressLine(c.done, c.total, c.bytes, c.elapsed); got != c.want {
			t.Errorf("progressLine(%d, %d, %d, %s) = %q, want %q", c.done, c.total, c.bytes, c.elapsed, got, c.want)
		}
	}
}
