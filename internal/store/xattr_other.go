//go:build !linux

package store

import (
	"errors"
	"os"
	"syscall"
)

var errNotDir error = syscall.ENOTDIR

// Extended attributes are used on Linux only; elsewhere file:// objects keep
// no attributes (Capabilities.StoresAttributes is false).
func setAttrs(*os.File, fileAttrs) error {
	return errors.New("extended attributes are not supported here")
}

func getAttrs(*os.File) (fileAttrs, bool) { return fileAttrs{}, false }

func xattrsSupported(string) bool { return false }
