// Package archive reads tar, tar.gz and zip archives as a stream of safe
// entries. Every entry name is validated (no "..", no absolute paths, no
// backslashes, no NUL bytes, valid UTF-8), links may not point out of the
// tree, device and fifo entries are refused, and limits on the number of
// entries, the size of one entry and the total size stop archive bombs.
// Refusals are reported as *UnsafeEntryError so callers can errors.As them.
package archive

import (
	"fmt"
	"io"
)

// Default limits, used for any Limits field that is zero or negative.
const (
	DefaultMaxEntries   = 1_000_000
	DefaultMaxEntrySize = int64(5) << 30  // 5 GiB
	DefaultMaxTotalSize = int64(50) << 30 // 50 GiB
)

// maxLinkTarget bounds the length of a symlink target read from a zip entry.
const maxLinkTarget = 4096

// Limits bound what an archive may contain. A zero or negative field means
// the default.
type Limits struct {
	// MaxEntries is the most headers (files, directories, links, pax global
	// headers) the archive may hold. Default 1,000,000.
	MaxEntries int
	// MaxEntrySize is the largest content size of one entry. Default 5 GiB.
	MaxEntrySize int64
	// MaxTotalSize is the largest sum of content sizes. Default 50 GiB. The
	// decompressed stream of a tar.gz is also bounded by it (plus a
	// per-entry allowance for headers).
	MaxTotalSize int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxEntrySize <= 0 {
		l.MaxEntrySize = DefaultMaxEntrySize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultMaxTotalSize
	}
	return l
}

// Options configure a Reader.
type Options struct {
	// Limits bound the archive; zero fields take the defaults.
	Limits Limits
	// StripWrapper removes the single top-level folder (such as GitHub's
	// OWNER-REPO-SHA/) from every path. The first entry decides the folder's
	// name; an entry outside it is refused. The folder's own directory entry
	// is not returned.
	StripWrapper bool
}

// Kind is the type of an archive entry.
type Kind int

const (
	// KindFile is a regular file.
	KindFile Kind = iota
	// KindExec is a regular file with an executable bit set.
	KindExec
	// KindSymlink is a symbolic link; Entry.LinkTarget holds its text and the
	// entry's content is that text.
	KindSymlink
	// KindDir is a directory; it has no content. Directories are returned so
	// callers can see them, but most callers skip them.
	KindDir
	// KindHardlink is a tar hard link; Entry.LinkTarget is the tree path
	// (wrapper stripped) of the earlier entry it repeats. It has no content.
	KindHardlink
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindFile:
		return "file"
	case KindExec:
		return "exec"
	case KindSymlink:
		return "symlink"
	case KindDir:
		return "dir"
	case KindHardlink:
		return "hardlink"
	default:
		return fmt.Sprintf("kind(%d)", int(k))
	}
}

// Entry is one validated archive member.
type Entry struct {
	// Path is clean, relative, slash-separated, with the wrapper folder
	// stripped when Options.StripWrapper is set. It never contains "..".
	Path string
	// Kind is the entry type.
	Kind Kind
	// Size is the content size in bytes (for a symlink: len(LinkTarget);
	// for directories and hard links: 0).
	Size int64
	// LinkTarget is the link text of a symlink, or the tree path a hard
	// link refers to; empty otherwise.
	LinkTarget string
}

// UnsafeEntryError is returned for every entry the reader refuses, and for
// every limit that is exceeded.
type UnsafeEntryError struct {
	// Entry is the name as recorded in the archive (before any cleaning).
	Entry string
	// Reason says why it was refused.
	Reason string
}

// Error implements error, e.g. `archive entry "../x": path escapes the tree`.
func (e *UnsafeEntryError) Error() string {
	return fmt.Sprintf("archive entry %q: %s", e.Entry, e.Reason)
}

func unsafe(name, format string, args ...any) *UnsafeEntryError {
	return &UnsafeEntryError{Entry: name, Reason: fmt.Sprintf(format, args...)}
}

// eofReader is the content of entries without content.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
