package reposync

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ghsync/ghsync/internal/reposync/source"
)

// ErrUnreadable is matched (errors.Is) by the error of a run that mirrored
// everything but some source files it could not read (a dir: source's
// permission-denied file or folder, a read error): those are named in the
// Summary (Unreadable, Paths.Unreadable), their objects are left as they
// were, and the run fails (exit 1) so that it is seen.
var ErrUnreadable = errors.New("some source files could not be read")

// unreadableSet is the source's unreadable files and folders.
type unreadableSet struct {
	files map[string]bool
	dirs  []string // with a trailing "/"
	list  []source.Unreadable
}

// unreadableOf asks the source (if it reports any) and records them in s.
func unreadableOf(src source.Source, s *Summary) unreadableSet {
	r, ok := src.(source.UnreadableReporter)
	if !ok {
		return unreadableSet{}
	}
	u := unreadableSet{list: r.Unreadable(), files: map[string]bool{}}
	for _, x := range u.list {
		name := x.Path
		if x.Dir {
			name += "/"
			u.dirs = append(u.dirs, name)
		} else {
			u.files[x.Path] = true
		}
		addPath(&s.Paths.Unreadable, name+" ("+x.Err+")")
	}
	s.Unreadable = len(u.list)
	return u
}

func (u unreadableSet) any() bool { return len(u.list) > 0 }

// covers reports whether a source path is, or is inside, something unreadable.
func (u unreadableSet) covers(path string) bool {
	if u.files[path] {
		return true
	}
	for _, d := range u.dirs {
		if strings.HasPrefix(path, d) {
			return true
		}
	}
	return false
}

// err is the run's error when something could not be read (nil otherwise).
func (u unreadableSet) err(s *Summary) error {
	if !u.any() {
		return nil
	}
	return fmt.Errorf("%w: %d left as they were in the destination, the rest was mirrored: %s; make them readable by the user ghsync runs as, or exclude them",
		ErrUnreadable, len(u.list), strings.Join(s.Paths.Unreadable, ", "))
}
