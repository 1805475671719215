package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoFileSilentlyLeftOut: a file named config.attrs cannot live in a
// file://…?metadata=sidecar destination (the side files' suffix): the run
// fails naming it, unless --skip-unstorable, when the summary counts it. The
// default file:// destination holds it like any other. Names like
// has__0x41.txt arrive under their own name.
func TestNoFileSilentlyLeftOut(t *testing.T) {
	src := t.TempDir()
	for _, n := range []string{"config.attrs", "has__0x41.txt", "ok.txt"} {
		if err := os.WriteFile(filepath.Join(src, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	plain := t.TempDir()
	code, out, errs := runCLI(ctx, "sync", "dir:"+src, "file://"+plain)
	if code != ExitOK || !strings.Contains(out, "3 new") || !strings.Contains(out, "0 skipped") {
		t.Fatalf("file://: exit %d, stdout %q, stderr %q; want every file and 0 skipped", code, out, errs)
	}
	if b, err := os.ReadFile(filepath.Join(plain, "config.attrs")); err != nil || string(b) != "config.attrs" {
		t.Errorf("config.attrs did not arrive under its own name: %q %v", b, err)
	}
	dst := t.TempDir()
	sidecar := "file://" + dst + "?metadata=sidecar"
	code, out, errs = runCLI(ctx, "sync", "dir:"+src, sidecar)
	if code != ExitFailed || !strings.Contains(errs, "config.attrs") {
		t.Fatalf("file:// with config.attrs: exit %d, stdout %q, stderr %q; want 1 naming config.attrs", code, out, errs)
	}
	// The way out is given in the user's words, not a Go field's.
	if !strings.Contains(errs, "--skip-unstorable") || !strings.Contains(errs, "skip_unstorable: true") || strings.Contains(errs, "Options.") {
		t.Errorf("stderr %q; want it to name --skip-unstorable and skip_unstorable: true, and no Go identifier", errs)
	}
	code, out, errs = runCLI(ctx, "sync", "dir:"+src, sidecar, "--skip-unstorable")
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

// TestFileFolderWithSideFilesAdopted: a folder written with NAME.attrs side
// files (file://'s default before; ?metadata=sidecar now) is taken over by
// the next run to the plain file:// URL without uploading anything, and
// then holds the same objects.
func TestFileFolderWithSideFilesAdopted(t *testing.T) {
	src := t.TempDir()
	for _, n := range []string{"a.txt", "d/b.html", "d/e/c.json"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, n)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	dst := t.TempDir()
	if code, out, errs := runCLI(ctx, "sync", "dir:"+src, "file://"+dst+"?metadata=sidecar"); code != ExitOK || !strings.Contains(out, "3 new") {
		t.Fatalf("with side files: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dst, "d", "b.html.attrs")); err != nil {
		t.Fatalf("no side file written: %v", err)
	}
	code, out, errs := runCLI(ctx, "sync", "dir:"+src, "file://"+dst)
	if code != ExitOK || !strings.Contains(out, "up to date") || !strings.Contains(out, "3 objects unchanged") {
		t.Fatalf("next run to file://: exit %d, stdout %q, stderr %q; want up to date, 3 unchanged", code, out, errs)
	}
	// A changed file is rewritten as one file (its side file goes); the
	// others stay as they are, with their side files.
	if err := os.WriteFile(filepath.Join(src, "d", "b.html"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI(ctx, "sync", "dir:"+src, "file://"+dst)
	if code != ExitOK || !strings.Contains(out, "0 new, 1 modified, 0 deleted, 2 unchanged") {
		t.Fatalf("run after a change: exit %d, stdout %q, stderr %q; want 1 modified, 2 unchanged", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dst, "d", "b.html.attrs")); !os.IsNotExist(err) {
		t.Errorf("the rewritten file's side file: %v; want it removed", err)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "d", "b.html")); err != nil || string(b) != "changed" {
		t.Errorf("d/b.html = %q, %v", b, err)
	}
}
