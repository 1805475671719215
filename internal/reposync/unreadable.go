package reposync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

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

// useKnown gives a source that can take what the last run recorded
// instead of reading it (source.StatCache: dir: skips hashing a file whose
// size and modification time match; git takes a known blob's size) the
// size, modification time and blob the manifest records for each path.
// The manifest's shards are loaded on the first question, so a source that
// asks nothing before the run is found up to date (git) costs nothing.
func useKnown(ctx context.Context, o *Options, prev *manifestState) error {
	sc, ok := o.Source.(source.StatCache)
	if !ok || prev.m == nil || o.KeyTemplate != "" {
		return nil
	}
	var once sync.Once
	var m *Manifest // nil when the shards could not be read: nothing is known
	prefix := o.KeyPrefix
	sc.UseKnown(func(path string) (source.Known, bool) {
		once.Do(func() {
			if err := prev.load(ctx, o.Bucket, o.ManifestKey); err == nil { // else the run's own load reports it
				m = prev.m
			}
		})
		if m == nil {
			return source.Known{}, false
		}
		// Through m, not a copy of its Objects: Run lets the objects go once
		// planned (a later call finds nothing, and the file is hashed).
		ob, ok := findObject(m.Objects, prefix+path)
		if !ok || ob.Path != path || ob.Blob == "" {
			return source.Known{}, false
		}
		return source.Known{Size: ob.Size, MTime: ob.MTime, Blob: ob.Blob}, true
	})
	return nil
}
