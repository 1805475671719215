package osfile

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Rename renames oldpath to newpath, replacing a file there, as os.Rename
// does (without its lstat of newpath first). created is true only when
// newpath certainly did not exist before: renameat2(2) with
// RENAME_NOREPLACE succeeded. Where the file system does not support that
// flag it falls back to rename(2) and reports created false.
func Rename(oldpath, newpath string) (created bool, err error) {
	err = ignoringEINTR(func() error {
		return unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE)
	})
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, syscall.EEXIST) && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOSYS) {
		return false, &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	if err := ignoringEINTR(func() error { return syscall.Rename(oldpath, newpath) }); err != nil {
		return false, &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return false, nil
}
