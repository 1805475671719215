package jobs

import (
	"path/filepath"
	"strings"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// checkSourceDest refuses (a usage error) a local source and a file://
// destination that overlap, as rclone does: a destination inside a folder
// source is read back as source files on the next run (out/ copied into
// out/out/… on every run, or the side files of the first run failing the
// second), and a source inside its destination is under the destination's
// deletes. Both paths are absolute with symbolic links resolved, so "."
// against file://./out, dir:link against the folder link points to, and
// file://.?prefix=out are all caught.
//
// A git checkout is mirrored from its HEAD commit, never from its working
// tree, so what ghsync writes inside the working tree is never read back:
// `ghsync sync . file://./out` in a checkout is the normal first use and is
// allowed. Refused for a checkout are a destination that is the checkout
// itself or contains it, and one inside its .git folder.
func checkSourceDest(spec source.Spec, dest string) error {
	if spec.Kind != source.KindDir && spec.Kind != source.KindCheckout {
		return nil
	}
	loc, err := store.Locate(dest)
	if err != nil || loc.Dir == "" {
		return nil // not a folder; a bad URL is reported when the store is opened
	}
	abs, err := filepath.Abs(spec.Path)
	if err != nil {
		return nil
	}
	src := store.RealPath(abs)
	dst := loc.Dir
	switch {
	case within(src, dst):
		return Usagef("destination %s (folder %s) holds the source %s: the source is inside its destination, whose deletes and writes would change the source; choose a destination outside %s",
			store.Redact(dest), dst, src, src)
	case spec.Kind == source.KindDir && within(dst, src):
		return Usagef("destination %s (folder %s) is inside the source folder %s: every run would read its own output back as source files; choose a destination outside %s",
			store.Redact(dest), dst, src, src)
	case spec.Kind == source.KindCheckout && within(dst, filepath.Join(src, ".git")):
		return Usagef("destination %s (folder %s) is inside the checkout's .git folder; choose a destination outside %s",
			store.Redact(dest), dst, filepath.Join(src, ".git"))
	}
	return nil
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
