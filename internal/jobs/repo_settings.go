package jobs

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/ghsync/ghsync/internal/archive"
	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/reposync"
)

// KindRepo is the name of the repo kind: a repository (or git remote, or
// folder) mirrored into a bucket prefix.
const KindRepo = "repo"

// RepoSettings are the settings of a repo job. After the configuration is
// loaded every field holds its effective value (defaults applied, patterns
// compiled, Dest resolved against the config's storage).
type RepoSettings struct {
	// Source is the source spec (github:OWNER/REPO[@REF], git+…, a path, dir:PATH).
	Source string `yaml:"source" cfg:"required"`
	// Dest is the destination store URL + prefix.
	Dest string `yaml:"dest" cfg:"required"`
	// Mode is reposync.ModeFiles (default) or reposync.ModeArchive.
	Mode string `yaml:"mode"`
	// ArchiveFormat is reposync.ArchiveZip (default) or ArchiveTarGz.
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
	// Delete is reposync.DeleteNone, DeleteManaged (default) or DeleteAll.
	Delete string `yaml:"delete"`
	// MaxDelete caps deletions per run (default 50% of managed objects).
	MaxDelete MaxDelete `yaml:"max_delete"`
	// Symlinks is reposync.SymlinksSkip (default), SymlinksFollow or SymlinksObject.
	Symlinks string `yaml:"symlinks"`
	// ContentType overrides content types per glob, in file order.
	ContentType config.GlobMap `yaml:"content_type"`
	// CacheControl sets Cache-Control per glob, in file order.
	CacheControl config.GlobMap `yaml:"cache_control"`
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
	Limits RepoLimits `yaml:"limits"`
	// SkipUnstorable leaves out (and counts) source files whose names the
	// destination cannot hold (file://'s reserved .attrs suffix) instead of
	// failing the run.
	SkipUnstorable bool `yaml:"skip_unstorable"`
	// Checksum makes a dir: source hash every file on every run instead of
	// trusting a size and modification time equal to the last run's.
	Checksum bool `yaml:"checksum"`
	// ReposFrom, when set, fans the job out: one sync per row of a SQL
	// query, with Source and Dest as templates over the row's columns.
	ReposFrom *ReposFrom `yaml:"repos_from"`
	// Invalidate are the CDNs to invalidate after a run that changed
	// objects (cloudfront://DISTRIBUTION_ID, cloudflare://ZONE_ID); CDN
	// tunes how (repo_invalidate.go).
	Invalidate config.StringList `yaml:"invalidate"`
	CDN        *CDNSettings      `yaml:"cdn"`
	// IncludeRepos, ExcludeRepos, Topics, Visibility and Archived choose the
	// repositories of a whole-owner source, github:OWNER/* (repo_org.go).
	IncludeRepos []string `yaml:"include_repos"`
	ExcludeRepos []string `yaml:"exclude_repos"`
	Topics       []string `yaml:"topics"`
	Visibility   string   `yaml:"visibility"`
	Archived     *bool    `yaml:"archived"`
}

// ReposFrom is the query a fanned-out repo job takes its rows from.
type ReposFrom struct {
	// Database is the database URL the query runs against ("" = the
	// config's database).
	Database string `yaml:"database"`
	// Query is a SELECT returning one row per sync; its columns (repo, ref,
	// any other) fill {column} placeholders in source and dest.
	Query string `yaml:"query" cfg:"required"`
}

// RepoLimits bound archive reading (defaults: archive.DefaultMaxEntries,
// DefaultMaxEntrySize, DefaultMaxTotalSize).
type RepoLimits struct {
	// MaxEntries is the maximum number of entries.
	MaxEntries int64 `yaml:"max_entries"`
	// MaxEntrySize is the maximum size of one entry.
	MaxEntrySize config.Size `yaml:"max_entry_size"`
	// MaxTotalSize is the maximum total uncompressed size.
	MaxTotalSize config.Size `yaml:"max_total_size"`
}

// MaxDelete is a deletion cap written as a count ("200") or a percentage
// of the managed objects ("50%"); reposync.MaxDelete applies it.
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
		return strconv.FormatFloat(m.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(m.Count)
}

// DecodeScalar implements config.ScalarDecoder.
func (m *MaxDelete) DecodeScalar(v string) error {
	t := strings.TrimSpace(v)
	if p, ok := strings.CutSuffix(t, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || f < 0 || f > 100 {
			return fmt.Errorf("must be a count or a percentage between 0%% and 100%% (got %q)", config.Truncate(v, 40))
		}
		*m = MaxDelete{Percent: f, IsPercent: true}
		return nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 {
		return fmt.Errorf("must be a count or a percentage such as 50%% (got %q)", config.Truncate(v, 40))
	}
	*m = MaxDelete{Count: n}
	return nil
}

// reposync returns the guard as repo sync applies it.
func (m MaxDelete) reposync() reposync.MaxDelete {
	if m.IsPercent {
		return reposync.MaxDelete{Percent: m.Percent}
	}
	return reposync.MaxDelete{Count: m.Count}
}

// repoDefaults fills unset settings; has tells an absent key from an
// explicit zero, so that an explicit 0 can still be rejected.
func repoDefaults(r *RepoSettings, has func(string) bool) {
	if r.Mode == "" {
		r.Mode = reposync.ModeFiles
	}
	if r.ArchiveFormat == "" {
		r.ArchiveFormat = reposync.ArchiveZip
	}
	if r.Delete == "" {
		r.Delete = reposync.DeleteManaged
	}
	if !has("max_delete") {
		r.MaxDelete = MaxDelete{Percent: reposync.DefaultMaxDeletePercent, IsPercent: true}
	}
	if r.Symlinks == "" {
		r.Symlinks = reposync.SymlinksSkip
	}
	if r.Manifest == "" && !has("manifest") {
		r.Manifest = reposync.DefaultManifestKey
	}
	if !has("concurrency") {
		r.Concurrency = reposync.DefaultConcurrency
	}
	if r.KeyTemplate == "" && !has("key_template") {
		r.KeyTemplate = reposync.DefaultKeyTemplate
	}
	if !has("limits.max_entries") {
		r.Limits.MaxEntries = archive.DefaultMaxEntries
	}
	if !has("limits.max_entry_size") {
		r.Limits.MaxEntrySize = config.Size(archive.DefaultMaxEntrySize)
	}
	if !has("limits.max_total_size") {
		r.Limits.MaxTotalSize = config.Size(archive.DefaultMaxTotalSize)
	}
}

// checkRepo applies the defaults and validates r.
func checkRepo(r *RepoSettings, c *config.Checker) {
	repoDefaults(r, c.Has)
	c.Required("source", r.Source)
	resolveSourcePath(c, &r.Source)
	c.Dest("dest", &r.Dest)
	c.OneOf("mode", r.Mode, reposync.Modes...)
	c.OneOf("archive_format", r.ArchiveFormat, reposync.ArchiveFormats...)
	c.OneOf("delete", r.Delete, reposync.DeletePolicies...)
	c.OneOf("symlinks", r.Symlinks, reposync.SymlinkPolicies...)
	r.Include = c.Regexps("include", r.IncludePatterns)
	r.Exclude = c.Regexps("exclude", r.ExcludePatterns)
	if r.ArchiveKey != "" {
		c.Key("archive_key", r.ArchiveKey)
	}
	if r.Manifest == "" {
		c.Errorf("manifest", "must not be empty")
	} else {
		c.Key("manifest", r.Manifest)
	}
	c.Range("concurrency", r.Concurrency, 1, reposync.MaxConcurrency)
	c.Globs("content_type", r.ContentType, config.MediaType)
	c.Globs("cache_control", r.CacheControl, func(v string) string {
		if strings.TrimSpace(v) == "" {
			return "must not be empty"
		}
		return ""
	})
	c.Key("key_template", r.KeyTemplate)
	if !c.Failed("key_template") {
		if m := checkKeyTemplate(r.KeyTemplate); m != "" {
			c.Errorf("key_template", "%s", m)
		}
	}
	if f := r.ReposFrom; f != nil {
		checkReposFrom(f, r, c)
	}
	checkInvalidate(r, c)
	checkOwnerSource(r, c)
	c.Positive("limits.max_entries", r.Limits.MaxEntries)
	c.Positive("limits.max_entry_size", int64(r.Limits.MaxEntrySize))
	c.Positive("limits.max_total_size", int64(r.Limits.MaxTotalSize))
}

// checkKeyTemplate validates a release key template's placeholders.
func checkKeyTemplate(t string) string {
	rest := t
	for {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			return ""
		}
		if rest[i] == '}' {
			return "unbalanced \"}\""
		}
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return "unterminated \"{\""
		}
		switch name := rest[i+1 : i+end]; name {
		case "owner", "repo", "tag":
		default:
			return fmt.Sprintf("unknown placeholder {%s} (use {owner}, {repo}, {tag})", config.Truncate(name, 30))
		}
		rest = rest[i+end+1:]
	}
}
