package osfile

import "os"

// linkThenUnlink gives oldpath the name newpath unless newpath exists
// (link(2) fails with EEXIST then), and removes the name oldpath.
func linkThenUnlink(oldpath, newpath string) error {
	if err := os.Link(oldpath, newpath); err != nil {
		return err
	}
	return os.Remove(oldpath)
}
