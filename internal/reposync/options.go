// Package reposync mirrors a source tree (a GitHub ref, a git remote, a
// local checkout or folder) into a bucket prefix. A run is a pipeline:
// resolve the source → read the manifest → plan → apply → write the
// manifest → report. The plan is a plain value, so --dry-run prints it and
// the rules are testable without any network.
package reposync

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"time"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// Delete policies.
const (
	DeleteNone    = "none"
	DeleteManaged = "managed"
	DeleteAll     = "all"
)

// Symlink policies.
const (
	SymlinksSkip   = "skip"
	SymlinksFollow = "follow"
	SymlinksObject = "object"
)

// Modes.
const (
	ModeFiles   = "files"
	ModeArchive = "archive"
)

// DefaultManifestKey is where the manifest lives, relative to the prefix.
const DefaultManifestKey = ".ghsync/manifest.json"

// ErrTooManyDeletes is returned (wrapped) when the max_delete guard stops a run.
var ErrTooManyDeletes = errors.New("delete guard")

// MaxDelete limits how many objects one run may delete: Count when > 0,
// else Percent of the managed objects (never fewer than MinPercentFloor,
// so renaming a file in a tiny tree is not refused).
type MaxDelete struct {
	Count   int
	Percent float64 // 0..100
}

// MinPercentFloor is the smallest limit a percentage guard allows.
const MinPercentFloor = 10

// Limit returns the number of deletions allowed when managed objects exist.
func (m MaxDelete) Limit(managed int) int {
	if m.Count > 0 {
		return m.Count
	}
	pct := m.Percent
	if pct == 0 {
		pct = 50
	}
	n := int(math.Floor(float64(managed) * pct / 100))
	if n < MinPercentFloor {
		n = MinPercentFloor
	}
	return n
}

// ArchiveSource is implemented by sources that can stream their tree as one
// archive (GitHub's tarball/zipball). Sources without it are packed by ghsync.
type ArchiveSource interface {
	Archive(ctx context.Context, format string) (io.ReadCloser, error)
}

// TemplateSource is implemented by sources that expand key templates.
type TemplateSource interface {
	TemplateVars() map[string]string
}

// Options configure one run. The zero value of each field is its default.
type Options struct {
	Job        string // job name, for logs, the manifest and alerts
	Source     source.Source
	Bucket     *store.Bucket
	Mode       string // files (default) | archive
	ArchiveFmt string // zip (default) | tar.gz
	ArchiveKey string // default: REPO.zip / REPO.tar.gz
	KeyPrefix  string // added to every object key under the bucket prefix
	// KeyTemplate, when set, is expanded after the source resolved (e.g.
	// "{repo}/{tag}/" for releases, from the source's TemplateVars) and added
	// to KeyPrefix; the manifest then lives under the expanded prefix too.
	KeyTemplate  string
	Filter       Filter
	Delete       string // none | managed (default) | all
	MaxDelete    MaxDelete
	Force        bool // ignore the max_delete guard
	Symlinks     string
	ContentTypes []GlobRule
	CacheControl []GlobRule
	ManifestKey  string
	Concurrency  int
	DryRun       bool
	Verify       bool // list the store and repair drift even when the commit did not move
	// SkipUnstorable leaves out (and counts in Summary.Skips) source files
	// whose names the destination cannot hold under their own name (on
	// file://, names ending in ".attrs"). When false such files make the run
	// fail before anything is written, with an error naming them.
	SkipUnstorable bool
	// Owner identifies the source (OwnerOf) for the manifest's owner; a
	// run refuses a destination whose manifest names another owner
	// (OwnerError) unless TakeOver. "" records and checks no owner.
	Owner string
	// TakeOver lets this run replace the destination's recorded owner.
	TakeOver bool
	// RecordKeys makes the run list in Summary.Keys every key it writes or
	// deletes (what a CDN invalidation covers). Off, Summary.Keys is nil:
	// at a million files the list is ~16 MB held to the end of the run.
	RecordKeys bool
	Logger     *slog.Logger
	Progress   func(Progress)

	// inlineLimit and shardAvg override DefaultManifestInline and
	// DefaultShardSize (tests; a negative inlineLimit shards every manifest).
	inlineLimit, shardAvg int
	// shardGraceOverride replaces DefaultShardGrace (tests; negative: no grace).
	shardGraceOverride time.Duration
	// beforeShardGC, when set, runs in collectShards between its check of
	// the root and its delete (tests: another run commits there).
	beforeShardGC func()
}

// Progress is reported while uploading.
type Progress struct {
	Done, Total   int
	BytesUploaded int64
}

func (o *Options) defaults() {
	if o.Mode == "" {
		o.Mode = ModeFiles
	}
	if o.Delete == "" {
		o.Delete = DeleteManaged
	}
	if o.Symlinks == "" {
		o.Symlinks = SymlinksSkip
	}
	if o.ManifestKey == "" {
		o.ManifestKey = DefaultManifestKey
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.ArchiveFmt == "" {
		o.ArchiveFmt = "zip"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}
