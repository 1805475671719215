package osfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestOpenFileCreatesReadsAndReportsErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	f, err := OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second exclusive create: err = %v, want fs.ErrExist", err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 { // 0600 survives any usual umask
		t.Errorf("mode = %v, want -rw-------", fi.Mode().Perm())
	}
	r, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil || string(data) != "hello" {
		t.Fatalf("read %q, %v; want hello", data, err)
	}
	_, err = Open(filepath.Join(dir, "missing"))
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != filepath.Join(dir, "missing") {
		t.Fatalf("open missing: err = %v, want a *fs.PathError naming the path, matching fs.ErrNotExist", err)
	}
}

func TestRenameReportsWhetherItCreated(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, c := range []struct {
		content     string
		wantCreated bool
	}{{"one", runtime.GOOS == "linux"}, {"two", false}} {
		if err := os.WriteFile(a, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		created, err := Rename(a, b)
		if err != nil {
			t.Fatal(err)
		}
		if created != c.wantCreated {
			t.Errorf("rename (%s): created = %v, want %v", c.content, created, c.wantCreated)
		}
		if got, _ := os.ReadFile(b); string(got) != c.content {
			t.Errorf("after rename: %q, want %q", got, c.content)
		}
		if _, err := os.Stat(a); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("old name still there: %v", err)
		}
	}
	if _, err := Rename(a, b); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("rename of a missing file: err = %v, want fs.ErrNotExist", err)
	}
	if err := os.Mkdir(a, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Rename(b, a); err == nil {
		t.Error("renaming a file over a directory succeeded")
	}
}
