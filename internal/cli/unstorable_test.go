package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoFileSilentlyLeftOut: a file named config.attrs cannot live in a
// file:// destination (the sidecar suffix): the run fails naming it, unless
// --skip-unstorable, when the summary counts it. Names like has__0x41.txt
// arrive under their own name.
func TestNoFileSilentlyLeftOut(t *testing.T) {
	src := t.TempDir()
	for _, n := range []string{"config.attrs", "has__0x41.txt", "ok.txt"} {
		if err := os.WriteFile(filepath.Join(src, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	dst := t.TempDir()
	code, out, errs := runCLI(ctx, "sync", "dir:"+src, "file://"+dst)
	if code != ExitFailed || !strings.Contains(errs, "config.attrs") {
		t.Fatalf("file:// with config.attrs: exit %d, stdout %q, stderr %q; want 1 naming config.attrs", code, out, errs)
	}
	// The way out is given in the user's words, not a Go field's.
	if !strings.Contains(errs, "--skip-unstorable") || !strings.Contains(errs, "skip_unstorable: true") || strings.Contains(errs, "Options.") {
		t.Errorf("stderr %q; want it to name --skip-unstorable and skip_unstorable: true, and no Go identifier", errs)
	}
	code, out, errs = runCLI(ctx, "sync", "dir:"+src, "file://"+dst, "--skip-unstorable")
	if code != ExitOK || !strings.Contains(out, "2 new") || !strings.Contains(out, "1 skipped (1 unstorable name)") {
		t.Fatalf("--skip-unstorable: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "has__0x41.txt")); err != nil || string(b) != "has__0x41.txt" {
		t.Errorf("has__0x41.txt did not arrive under its own name: %q %v", b, err)
	}
	code, out, errs = runCLI(ctx, "sync", "dir:"+src, "mem://unstorable-test/")
	if code != ExitOK || !strings.Contains(out, "3 new") || !strings.Contains(out, "0 skipped") {
		t.Errorf("mem://: exit %d, stdout %q, stderr %q; want every file and 0 skipped", code, out, errs)
	}
}
