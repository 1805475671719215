//go:build linux

package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// errNotDir is the error for a path through a file where a directory was expected.
var errNotDir error = syscall.ENOTDIR

// setAttrs stores a as f's extended attribute xattrName, in the compact
// encoding (fileattrs.go).
func setAttrs(f *os.File, a fileAttrs) error {
	if err := unix.Fsetxattr(int(f.Fd()), xattrName, encodeAttrs(a), 0); err != nil {
		return fmt.Errorf("fsetxattr %s: %w", xattrName, err)
	}
	return nil
}

// getAttrs reads f's extended attribute xattrName (either encoding, see
// fileattrs.go); ok is false when it has none or it cannot be read.
func getAttrs(f *os.File) (a fileAttrs, ok bool) {
	buf := make([]byte, 1024)
	for {
		n, err := unix.Fgetxattr(int(f.Fd()), xattrName, buf)
		if errors.Is(err, unix.ERANGE) && len(buf) < 1<<20 {
			buf = make([]byte, 2*len(buf))
			continue
		}
		if err != nil {
			return a, false
		}
		a, err = decodeAttrs(buf[:n])
		return a, err == nil
	}
}

// xattrsSupported reports whether the file system of dir keeps user
// extended attributes: it sets and removes one on dir.
func xattrsSupported(dir string) bool {
	if err := unix.Setxattr(dir, "user.ghsync.probe", []byte("1"), 0); err != nil {
		return false
	}
	_ = unix.Removexattr(dir, "user.ghsync.probe")
	return true
}
