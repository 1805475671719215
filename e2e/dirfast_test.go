package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ageTree sets every file under dir to a modification time an hour ago, so
// that size and time are trusted by the next run (recent times are not).
func ageTree(t *testing.T, dir string) time.Time {
	t.Helper()
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		return os.Chtimes(p, old, old)
	})
	if err != nil {
		t.Fatal(err)
	}
	return old
}

// A dir: source's no-change run takes size + modification time against
// what the last run recorded instead of reading every byte (issue 18 item
// 6): content changed under the same size and time is not seen without
// --checksum (as with rclone), and is with it. Through the built binary.
func TestDirSizeAndTimeFastPath(t *testing.T) {
	src, out := t.TempDir(), t.TempDir()
	writeTree(t, src, map[string]string{"a.txt": "AAAA", "b/c.txt": "CCCC"})
	old := ageTree(t, src)
	dst := "file://" + out
	sync := func(extra ...string) map[string]any {
		t.Helper()
		r := exe(t, src, nil, append([]string{"sync", "dir:" + src, dst, "--json"}, extra...)...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		return r.summary(t)
	}
	if s := sync(); s["new"] != 2.0 {
		t.Fatalf("cold: %v", s)
	}
	// Same size, same time, other bytes: only a read can tell.
	p := filepath.Join(src, "a.txt")
	if err := os.WriteFile(p, []byte("ZZZZ"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	if s := sync(); s["up_to_date"] != true || s["modified"] != 0.0 {
		t.Fatalf("without --checksum the run read the file (size and time match the record): %v", s)
	}
	if s := sync("--checksum"); s["modified"] != 1.0 {
		t.Fatalf("with --checksum the changed content was not seen: %v", s)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "a.txt")); string(got) != "ZZZZ" {
		t.Fatalf("a.txt in the destination: %q", got)
	}
	// A new modification time is seen without --checksum.
	if err := os.WriteFile(p, []byte("YYYY"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, old.Add(time.Minute), old.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if s := sync(); s["modified"] != 1.0 {
		t.Fatalf("a new modification time was not noticed: %v", s)
	}
}

// unprivileged returns a command runner for the built binary under which
// permission bits are enforced: the binary itself when the tests run as a
// user, or run through setpriv as nobody (uid 65534) when they run as root
// (root reads a mode-000 file). It returns the folder everything must be
// made under (world-accessible when running as nobody).
func unprivileged(t *testing.T) (func(args ...string) result, string) {
	t.Helper()
	base, err := os.MkdirTemp("", "ghsync-unreadable-") // t.TempDir's parent is private to root
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = filepath.Walk(base, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
		_ = os.RemoveAll(base)
	})
	bin := binary(t)
	var wrap []string
	if os.Geteuid() == 0 {
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Skipf("running as root without setpriv: cannot make a file unreadable (%v)", err)
		}
		if err := os.Chmod(base, 0o777); err != nil {
			t.Fatal(err)
		}
		// nobody must be able to run the binary: copy it into base.
		cp := filepath.Join(base, "ghsync")
		copyFile(t, bin, cp)
		bin = cp
		wrap = []string{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"}
	}
	return func(args ...string) result {
		t.Helper()
		if wrap == nil {
			return exe(t, base, nil, append([]string{}, args...)...)
		}
		cmd := append(append([]string{}, wrap...), append([]string{bin}, args...)...)
		return exeAs(t, base, cmd)
	}, base
}

// exeAs runs argv (a wrapper and the binary) in dir like exe.
func exeAs(t *testing.T, dir string, argv []string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	outf, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(outf, in); err != nil {
		t.Fatal(err)
	}
	if err := outf.Close(); err != nil {
		t.Fatal(err)
	}
}

// An unreadable file or folder in a dir: source does not abort the run: the
// rest is mirrored, what the destination holds for them is left as it was
// (not deleted), they are named in the summary, and the run exits 1
// (issue 18 item 6). Through the built binary, as a user the permission
// bits apply to.
func TestDirUnreadableFileNamedRestMirrored(t *testing.T) {
	run, base := unprivileged(t)
	src, out := filepath.Join(base, "src"), filepath.Join(base, "out")
	for _, d := range []string{src, out} {
		if err := os.Mkdir(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	writeTree(t, src, map[string]string{"a.txt": "A1", "locked.txt": "L1", "secret/c.txt": "C1", "z.txt": "Z1"})
	for _, d := range []string{src, out, filepath.Join(src, "secret")} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	dst := "file://" + out
	if r := run("sync", "dir:"+src, dst, "--json"); r.code != 0 {
		t.Fatalf("first run: exit %d: %s", r.code, r.stderr)
	}
	writeTree(t, src, map[string]string{"a.txt": "A2", "z.txt": "Z2"})
	if err := os.Chmod(filepath.Join(src, "locked.txt"), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(src, "secret"), 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Join(src, "secret"), 0o777)

	r := run("sync", "dir:"+src, dst, "--json")
	if r.code != 1 {
		t.Fatalf("run with unreadable files: exit %d, want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	s := r.summary(t)
	if s["unreadable"] != 2.0 || s["modified"] != 2.0 || s["deleted"] != 0.0 {
		t.Fatalf("summary: %v; want 2 unreadable, 2 modified, nothing deleted", s)
	}
	named := ""
	if paths, ok := s["paths"].(map[string]any); ok {
		if list, ok := paths["unreadable"].([]any); ok {
			for _, p := range list {
				named += p.(string) + "\n"
			}
		}
	}
	if !strings.Contains(named, "locked.txt (") || !strings.Contains(named, "secret/ (") {
		t.Fatalf("paths.unreadable = %q; want locked.txt and secret/ named with the reason", named)
	}
	if msg, _ := s["error"].(string); !strings.Contains(msg, "locked.txt") {
		t.Fatalf("error %q does not name the file", msg)
	}
	for name, want := range map[string]string{"a.txt": "A2", "z.txt": "Z2", "locked.txt": "L1", "secret/c.txt": "C1"} {
		if got, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(name))); err != nil || string(got) != want {
			t.Errorf("destination %s = %q (%v), want %q", name, got, err, want)
		}
	}
	// Still unreadable: never "up to date", still exit 1.
	if r := run("sync", "dir:"+src, dst, "--json"); r.code != 1 {
		t.Fatalf("second run with the file still unreadable: exit %d, want 1: %s", r.code, r.stdout)
	}
	// Readable again: mirrored, exit 0.
	if err := os.Chmod(filepath.Join(src, "locked.txt"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(src, "secret"), 0o777); err != nil {
		t.Fatal(err)
	}
	writeTree(t, src, map[string]string{"locked.txt": "L2"})
	if r := run("sync", "dir:"+src, dst, "--json"); r.code != 0 {
		t.Fatalf("run after fixing the permissions: exit %d: %s", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "locked.txt")); string(got) != "L2" {
		t.Fatalf("locked.txt after the fix: %q", got)
	}
}
