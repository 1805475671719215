//go:build !linux

package osfile

// RenameNoReplace moves oldpath to newpath only if newpath does not exist,
// atomically: link(2) then unlink of oldpath. When newpath exists nothing is
// moved and the error matches fs.ErrExist.
func RenameNoReplace(oldpath, newpath string) error { return linkThenUnlink(oldpath, newpath) }
