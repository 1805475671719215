// Package source defines what every repo-sync source yields: a commit-like
// identity, a list of entries with git blob SHA-1s, and a way to read the
// entries that changed. Concrete sources (GitHub, git remotes, a local
// checkout, a plain folder) live beside this file; the engine in
// internal/reposync only speaks this interface.
package source

import (
	"context"
	"io"
)

// Mode is the kind of a tree entry, as git records it. It is one byte so
// that an Entry stays 72 bytes.
type Mode uint8

const (
	// ModeFile is a regular file (git 100644).
	ModeFile Mode = iota
	// ModeExec is an executable file (git 100755).
	ModeExec
	// ModeSymlink is a symbolic link (git 120000); Entry.Target holds the link text.
	ModeSymlink
	// ModeSubmodule is a gitlink (git 160000); it has no content in this tree.
	ModeSubmodule
)

// String returns the git mode in octal, e.g. "100644".
func (m Mode) String() string {
	switch m {
	case ModeExec:
		return "100755"
	case ModeSymlink:
		return "120000"
	case ModeSubmodule:
		return "160000"
	default:
		return "100644"
	}
}

// Entry is one path of a source tree. Its fields are ordered so that it
// takes 72 bytes (Mode and Blob share one word's padding): a listing holds
// one per file, a million in a large tree (issue 20).
type Entry struct {
	// Path is repo-relative, slash-separated, without a leading slash.
	Path string
	Mode Mode
	// Blob is the content's identity: the git blob SHA-1, computed as git
	// does ("blob <size>\x00" + content) even for sources that are not git
	// (a submodule's commit for ModeSubmodule), or a GitHub release
	// asset's ID and size. Blob.String is the form manifests store.
	Blob Blob
	// Size is the content size in bytes (for a symlink: the length of Target).
	Size int64
	// Target is the link text of a symlink; empty otherwise.
	Target string
	// MTime is the file's modification time in Unix nanoseconds where the
	// source has one it trusts (dir: sources; see StatCache); 0 otherwise.
	MTime int64
}

// Revision identifies what a source resolved to.
type Revision struct {
	// Commit is the commit SHA (or, for a plain folder, a digest of the listing).
	Commit string
	// Ref is the ref that was resolved (branch, tag, "HEAD", release tag).
	Ref string
	// ETag is the validator GitHub returned for the ref, if any; the next run
	// sends it back as If-None-Match.
	ETag string
	// NotModified is true when the source proved, without listing, that the
	// revision equals the one described by the hint (a 304 from GitHub).
	NotModified bool
}

// Hint is what the previous run recorded; sources use it to answer cheaply.
type Hint struct {
	Commit string
	ETag   string
}

// FetchFunc receives one entry's content. It must read r to the end or
// return an error; r is only valid during the call. Calls may be concurrent.
type FetchFunc func(ctx context.Context, e Entry, r io.Reader) error

// Source is one place a tree comes from.
//
// Resolve is called first. List and Fetch are only called after Resolve and
// refer to the resolved revision.
type Source interface {
	// String describes the source for logs and the manifest (no secrets).
	String() string
	// Resolve finds the revision to sync. When hint matches and the source
	// can tell cheaply, it returns NotModified=true and the hint's commit.
	Resolve(ctx context.Context, hint Hint) (Revision, error)
	// List returns every entry of the resolved tree, sorted by Path.
	List(ctx context.Context) ([]Entry, error)
	// Fetch calls fn once for each of entries (in any order, possibly
	// concurrently, at most concurrency at a time) with its content. It stops at the
	// first error and returns it. Sources choose how to fetch (one request
	// per entry, or one archive stream for many).
	Fetch(ctx context.Context, entries []Entry, concurrency int, fn FetchFunc) error
}

// Stats are counters a source may report for the summary.
type Stats struct {
	Requests        int   // requests made to a remote API
	NotModified     int   // of which answered 304
	BytesDownloaded int64 // bytes of content and listings read from the remote
}

// StatsReporter is implemented by sources that talk to a remote.
type StatsReporter interface {
	Stats() Stats
}
