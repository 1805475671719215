package jobs

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

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
// itself or contains it, one inside its .git folder, and one that HEAD
// tracks (its working copies would be overwritten, or deleted with
// delete: all).
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
		return Usagef("destination %s (folder %s) holds the source %s: the source is inside its destination, whose deletes and writes would change the source; choose a destination folder that neither is nor contains %s",
			store.Redact(dest), dst, src, src)
	case spec.Kind == source.KindDir && within(dst, src):
		return Usagef("destination %s (folder %s) is inside the source folder %s: every run would read its own output back as source files; choose a destination outside %s",
			store.Redact(dest), dst, src, src)
	case spec.Kind == source.KindCheckout && within(dst, filepath.Join(src, ".git")):
		return Usagef("destination %s (folder %s) is inside the checkout's .git folder; choose a destination outside %s",
			store.Redact(dest), dst, filepath.Join(src, ".git"))
	case spec.Kind == source.KindCheckout && within(dst, src):
		rel, _ := filepath.Rel(src, dst)
		if tracked, err := trackedInHEAD(src, rel); err == nil && tracked {
			return Usagef("destination %s (folder %s) is inside the checkout %s and git tracks %s in HEAD: the sync would overwrite or delete "+
				"the working copies of tracked files; choose a folder git does not track (list it in .gitignore) or one outside the checkout",
				store.Redact(dest), dst, src, filepath.ToSlash(rel))
		}
	}
	return nil
}

// trackedInHEAD reports whether the HEAD commit of the checkout at root
// has an entry at rel (a file or folder). A repository without commits
// tracks nothing.
func trackedInHEAD(root, rel string) (bool, error) {
	repo, err := git.PlainOpenWithOptions(root, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if err != nil {
		return false, err
	}
	head, err := repo.Head()
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	c, err := repo.CommitObject(head.Hash())
	if err != nil {
		return false, err
	}
	tree, err := c.Tree()
	if err != nil {
		return false, err
	}
	_, err = tree.FindEntry(filepath.ToSlash(rel))
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return false, nil
	}
	return err == nil, err
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
