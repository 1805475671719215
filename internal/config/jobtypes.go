package config

import (
	"regexp"
)

// Repo-sync enumerations.
const (
	ModeFiles   = "files"
	ModeArchive = "archive"

	ArchiveZip   = "zip"
	ArchiveTarGz = "tar.gz"

	DeleteNone    = "none"
	DeleteManaged = "managed"
	DeleteAll     = "all"

	SymlinksSkip   = "skip"
	SymlinksFollow = "follow"
	SymlinksObject = "object"
)

// Status-snapshot formats.
const (
	FormatV5     = "v5"
	FormatGhsync = "ghsync"
)

// RepoJob is a repository mirrored into a bucket prefix (kind: repo).
// After Parse every field holds its effective value (defaults applied,
// patterns compiled, Dest resolved against Config.Storage).
type RepoJob struct {
	// Source is the source spec (github:OWNER/REPO[@REF], git+…, a path, dir:PATH).
	Source string `yaml:"source" cfg:"required"`
	// Dest is the destination store URL + prefix, resolved with ResolveDest.
	Dest string `yaml:"dest" cfg:"required"`
	// Mode is ModeFiles (default) or ModeArchive.
	Mode string `yaml:"mode"`
	// ArchiveFormat is ArchiveZip (default) or ArchiveTarGz, for ModeArchive.
	ArchiveFormat string `yaml:"archive_format"`
	// ArchiveKey overrides the archive object's key under Dest ("" = REPO.zip).
	ArchiveKey string `yaml:"archive_key"`
	// IncludePatterns are the RE2 include patterns as written.
	IncludePatterns []string `yaml:"include"`
	// ExcludePatterns are the RE2 exclude patterns as written.
	ExcludePatterns []string `yaml:"exclude"`
	// Include are IncludePatterns compiled (empty = include everything).
	Include []*regexp.Regexp `yaml:"-"`
	// Exclude are ExcludePatterns compiled.
	Exclude []*regexp.Regexp `yaml:"-"`
	// Delete is DeleteNone, DeleteManaged (default) or DeleteAll.
	Delete string `yaml:"delete"`
	// MaxDelete caps deletions per run (default 50% of managed objects).
	MaxDelete MaxDelete `yaml:"max_delete"`
	// Symlinks is SymlinksSkip (default), SymlinksFollow or SymlinksObject.
	Symlinks string `yaml:"symlinks"`
	// ContentType overrides content types per glob, in file order.
	ContentType GlobMap `yaml:"content_type"`
	// CacheControl sets Cache-Control per glob, in file order.
	CacheControl GlobMap `yaml:"cache_control"`
	// Manifest is the manifest's key under Dest (default .ghsync/manifest.json).
	Manifest string `yaml:"manifest"`
	// Concurrency is the number of concurrent uploads (default 16, 1..256).
	Concurrency int `yaml:"concurrency"`
	// Verify makes every run list the store and repair drift.
	Verify bool `yaml:"verify"`
	// Assets also mirrors release assets.
	Assets bool `yaml:"assets"`
	// KeyTemplate lays out releases under Dest (default "{repo}/{tag}/");
	// placeholders: {owner}, {repo}, {tag}.
	KeyTemplate string `yaml:"key_template"`
	// Limits bound what is read from archives.
	Limits Limits `yaml:"limits"`
}

// Limits bound archive reading (defaults: 1,000,000 entries, 5GiB per entry,
// 50GiB in total).
type Limits struct {
	// MaxEntries is the maximum number of entries.
	MaxEntries int64 `yaml:"max_entries"`
	// MaxEntrySize is the maximum size of one entry.
	MaxEntrySize Size `yaml:"max_entry_size"`
	// MaxTotalSize is the maximum total uncompressed size.
	MaxTotalSize Size `yaml:"max_total_size"`
}

// Default archive limits.
const (
	DefaultMaxEntries   = 1_000_000
	DefaultMaxEntrySize = 5 << 30
	DefaultMaxTotalSize = 50 << 30
)

// MaxDelete is a deletion cap: an absolute Count, or a Percent of the managed
// objects. Written as an integer ("200") or a percentage ("50%"). Repo sync
// (reposync.MaxDelete) applies it.
type MaxDelete struct {
	// Count is the absolute cap; used when IsPercent is false.
	Count int
	// Percent is the cap in percent (0..100); used when IsPercent is true.
	Percent float64
	// IsPercent selects Percent over Count.
	IsPercent bool
}

// String renders the cap as written: "50%" or "200".
func (m MaxDelete) String() string {
	if m.IsPercent {
		return formatFloat(m.Percent) + "%"
	}
	return formatFloat(float64(m.Count))
}

// GlobValue is one glob → value rule.
type GlobValue struct {
	// Pattern is a doublestar glob. Without "/" it matches a path's base name
	// at any depth ("*.html"); with "/" it matches the whole path ("assets/**").
	Pattern string
	// Value is what the rule assigns.
	Value string
}

// GlobMap is an ordered list of glob rules; the first matching rule wins
// (applied by repo sync, reposync.GlobRule).
type GlobMap []GlobValue

// StatusesJob writes status snapshots of branches (kind: statuses).
type StatusesJob struct {
	// Repo is OWNER/REPO.
	Repo string `yaml:"repo" cfg:"required"`
	// Branches are the branches to snapshot (at least one).
	Branches []string `yaml:"branches" cfg:"required"`
	// HistorySize is the number of commits per branch (default 100, 1..1000).
	HistorySize int `yaml:"history_size"`
	// Dest is the store URL + prefix, resolved with ResolveDest.
	Dest string `yaml:"dest" cfg:"required"`
	// Format is FormatV5 (default) or FormatGhsync.
	Format string `yaml:"format"`
}
