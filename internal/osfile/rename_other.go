//go:build !linux

package osfile

import "os"

// Rename is os.Rename; created is always false (see the Linux version).
func Rename(oldpath, newpath string) (created bool, err error) {
	return false, os.Rename(oldpath, newpath)
}
