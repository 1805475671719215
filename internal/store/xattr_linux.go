//go:build linux

package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// errNotDir is the error for a path through a file where a directory was expected.
var errNotDir error = syscall.ENOTDIR

// setAttrs stores a as f's extended attribute xattrName.
func setAttrs(f *os.File, a fileAttrs) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if err := unix.Fsetxattr(int(f.Fd()), xattrName, data, 0); err != nil {
		return fmt.Errorf("fsetxattr %s: %w", xattrName, err)
	}
	return nil
}

// getAttrs reads f's extended attribute xattrName; ok is false when it has none.
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
		return a, json.Unmarshal(buf[:n], &a) == nil
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
