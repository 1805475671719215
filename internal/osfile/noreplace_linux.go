package osfile

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// RenameNoReplace moves oldpath to newpath only if newpath does not exist,
// atomically: renameat2(RENAME_NOREPLACE), or, on file systems without it,
// link(2) then unlink of oldpath. When newpath exists (a file or a folder)
// nothing is moved and the error matches fs.ErrExist.
func RenameNoReplace(oldpath, newpath string) error {
	err := ignoringEINTR(func() error {
		return unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE)
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOSYS) {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return linkThenUnlink(oldpath, newpath)
}
