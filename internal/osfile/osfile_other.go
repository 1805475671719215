//go:build !unix

package osfile

import (
	"io/fs"
	"os"
)

// Open is os.Open (the poller detour of the package doc is Unix only).
func Open(name string) (*os.File, error) { return os.Open(name) }

// OpenFile is os.OpenFile.
func OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag, perm)
}
