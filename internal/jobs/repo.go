package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/archive"
	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/notify"
	"github.com/ghsync/ghsync/internal/reposync"
	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// repoKind mirrors a source tree into a bucket prefix (internal/reposync).
type repoKind struct{}

func (repoKind) Name() string     { return KindRepo }
func (repoKind) NewSettings() any { return &RepoSettings{} }

func (repoKind) Check(s any, c *config.Checker) { checkRepo(s.(*RepoSettings), c) }

// RepoOf returns the settings of a repo job (nil for other kinds).
func RepoOf(job *config.Job) *RepoSettings {
	s, _ := job.Settings.(*RepoSettings)
	return s
}

func (repoKind) Describe(job *config.Job) Description {
	r := RepoOf(job)
	return Description{Source: r.Source, Dest: store.Redact(r.Dest), Settings: []Setting{
		{"source", r.Source}, {"dest", store.Redact(r.Dest)}, {"mode", r.Mode},
		{"delete", r.Delete}, {"max delete", r.MaxDelete.String()},
	}}
}

func (repoKind) Needs(job *config.Job) Needs {
	r := RepoOf(job)
	n := Needs{Stores: []StoreUse{{URL: templatePrefix(r.Dest), Access: AccessReadWrite, Key: "dest",
		Manages: true, DeletesUnknown: r.Delete == reposync.DeleteAll}}}
	if r.ReposFrom != nil {
		n.Database = true
	}
	invalidateNeeds(r, &n)
	return n
}

// templatePrefix cuts a destination template at its first {column}: the
// prefix every expanded destination shares (what IAM must grant).
func templatePrefix(dest string) string {
	if i := strings.IndexByte(dest, '{'); i >= 0 {
		base, query, _ := strings.Cut(dest, "?")
		if i < len(base) {
			base = base[:strings.LastIndexByte(base[:i], '/')+1]
		}
		if query != "" {
			return base + "?" + query
		}
		return base
	}
	return dest
}

// Run runs the sync and sends an error alert on failure, a change alert
// listing what changed otherwise.
func (repoKind) Run(ctx context.Context, env *Env, job *config.Job, ro RunOptions) (*Result, error) {
	r := RepoOf(job)
	if r.ReposFrom != nil {
		return runFanout(ctx, env, job, r, ro)
	}
	if wholeOwner(r.Source) {
		return runOwner(ctx, env, job, r, ro)
	}
	sum, err := SyncRepo(ctx, env, job.Name, r, ro)
	res := &Result{}
	if sum != nil {
		res.Summary, res.Changed = sum, sum.Changed()
		res.SetText(func(w io.Writer) { writeRepoText(w, sum, err) })
	}
	if len(r.Invalidate) > 0 && sum != nil && !errors.Is(err, reposync.ErrOwned) {
		inv, ierr := invalidate(ctx, env, r, sum, ro.DryRun)
		syncErr := err
		res.Summary = &repoRunSummary{Summary: sum, Invalidation: inv}
		res.SetText(func(w io.Writer) {
			writeRepoText(w, sum, syncErr)
			if inv != nil {
				io.WriteString(w, inv.Text())
			}
		})
		err = errors.Join(err, ierr)
	}
	if ro.DryRun || ro.NoAlerts {
		return res, err
	}
	switch {
	case err != nil:
		env.Alert(ctx, job, notify.Alert{Level: notify.LevelError, Title: "sync failed",
			Text: err.Error(), Details: map[string]any{"source": r.Source, "dest": store.Redact(r.Dest)}})
	case res.Changed:
		env.Alert(ctx, job, changeAlert(sum))
	}
	return res, err
}

// changeAlert lists what a run changed: counts and the first names.
func changeAlert(s *reposync.Summary) notify.Alert {
	var b strings.Builder
	fmt.Fprintf(&b, "%s → %s at %s: %d new, %d modified, %d deleted, %d unchanged",
		s.Source, s.Dest, ShortSHA(s.Commit), s.New, s.Modified, s.Deleted, s.Unchanged)
	list := func(name string, paths []string, total int) {
		if len(paths) == 0 {
			return
		}
		const show = 10
		fmt.Fprintf(&b, "\n%s: %s", name, strings.Join(paths[:min(show, len(paths))], ", "))
		if total > show {
			fmt.Fprintf(&b, " … and %d more", total-show)
		}
	}
	list("new", s.Paths.New, s.New)
	list("modified", s.Paths.Modified, s.Modified+s.Repaired)
	list("deleted", s.Paths.Deleted, s.Deleted)
	return notify.Alert{Level: notify.LevelChange, Title: "synced " + ShortSHA(s.Commit), Text: b.String(),
		Details: map[string]any{"summary": s}}
}

// ShortSHA abbreviates a commit SHA to 12 characters for display.
func ShortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// SyncRepo runs one repo sync described by rj (a configured job's
// settings, or settings built from `ghsync sync`'s flags). The summary's
// Keys are recorded only when rj has invalidate: (what the invalidation
// after the run needs).
func SyncRepo(ctx context.Context, env *Env, name string, rj *RepoSettings, ro RunOptions) (*reposync.Summary, error) {
	spec, err := source.ParseSpec(rj.Source)
	if err != nil {
		return nil, Usage(err)
	}
	if spec.WholeOwner() {
		return nil, Usagef("source %s names every repository of %s: configure it as a repo job (source: %s, dest: the prefix each repository goes under) and run it with `ghsync run JOB`",
			rj.Source, spec.Owner, rj.Source)
	}
	if err := checkSourceDest(spec, rj.Dest); err != nil {
		return nil, err
	}
	src, err := openSource(ctx, env, spec, rj)
	if err != nil {
		return nil, err
	}
	b, err := env.OpenStore(ctx, rj.Dest, store.Options{PartSize: partSize, Concurrency: partConcurrency})
	if err != nil {
		return nil, err
	}
	defer b.Close()
	o := reposync.Options{
		Job: name, Source: src, Bucket: b, Mode: rj.Mode, ArchiveFmt: rj.ArchiveFormat, ArchiveKey: rj.ArchiveKey,
		Filter: reposync.Filter{Include: rj.Include, Exclude: rj.Exclude}, Delete: rj.Delete,
		MaxDelete: rj.MaxDelete.reposync(), Force: ro.Force, Symlinks: rj.Symlinks, ManifestKey: rj.Manifest,
		Concurrency: rj.Concurrency, DryRun: ro.DryRun, Verify: ro.Verify || rj.Verify, Logger: env.Logger,
		SkipUnstorable: rj.SkipUnstorable, Owner: reposync.OwnerOf(spec), TakeOver: ro.TakeOver,
		RecordKeys: len(rj.Invalidate) > 0, // the keys are what the CDN invalidation after the run covers
	}
	if spec.Release != "" {
		o.KeyTemplate = rj.KeyTemplate
		if o.KeyTemplate == "" {
			o.KeyTemplate = reposync.DefaultKeyTemplate
		}
	}
	for _, g := range rj.ContentType {
		o.ContentTypes = append(o.ContentTypes, reposync.GlobRule{Glob: g.Pattern, Value: g.Value})
	}
	for _, g := range rj.CacheControl {
		o.CacheControl = append(o.CacheControl, reposync.GlobRule{Glob: g.Pattern, Value: g.Value})
	}
	if ro.Progress != nil {
		o.Progress = func(p reposync.Progress) { ro.Progress(p.Done, p.Total, p.BytesUploaded) }
	}
	sum, err := reposync.Run(ctx, o)
	if sum != nil && b.Kind() == "mem" && !strings.HasPrefix(rj.Dest, "mem:") {
		sum.Dest = store.Redact(rj.Dest) // a dry run's stand-in for a folder not created yet (see ReadOnly)
	}
	if errors.Is(err, reposync.ErrOwned) {
		err = Usage(err) // exit 2, not retried: the destination belongs to another source
	}
	return sum, err
}

// openSource builds the source for spec.
func openSource(ctx context.Context, env *Env, spec source.Spec, rj *RepoSettings) (source.Source, error) {
	limits := archive.Limits{MaxEntries: int(rj.Limits.MaxEntries), MaxEntrySize: int64(rj.Limits.MaxEntrySize), MaxTotalSize: int64(rj.Limits.MaxTotalSize)}
	switch spec.Kind {
	case source.KindGitHub:
		gh, err := env.GitHub(ctx)
		if err != nil {
			return nil, err
		}
		api, err := gh.For(ctx, spec.Owner, spec.Repo)
		if err != nil {
			return nil, err
		}
		return source.NewGitHub(api, spec, source.GitHubOptions{
			Assets: rj.Assets, Limits: limits, Logger: env.Logger,
			RateRemaining: func() (int, bool) { n, _, ok := gh.RateRemaining(); return n, ok },
			Stats: func() source.Stats {
				s := gh.Stats()
				return source.Stats{Requests: s.Requests, NotModified: s.NotModified, BytesDownloaded: s.BytesDownloaded}
			},
		}), nil
	case source.KindGit:
		return source.NewGitRemote(spec.URL, spec.Ref, source.GitOptions{Logger: env.Logger})
	case source.KindCheckout:
		return source.NewGitCheckout(spec.Path, source.GitOptions{Logger: env.Logger})
	default:
		return source.NewDir(spec.Path, source.DirOptions{Checksum: rj.Checksum}), nil
	}
}

// Multipart settings for repo sync: S3's minimum part size, two parts in
// flight, so a large file holds at most about 15 MiB of buffers (the store
// raises the part size for bodies too large for 10,000 parts). Measured:
// peak RSS 88–92 MB syncing 1 GiB + 10,000 small files (bench/reposync/memory.sh).
const (
	partSize        = 5 << 20
	partConcurrency = 2
)

// Last reads the last successful run of a repo job from its manifest (one
// small read); nil when the job never ran.
func (repoKind) Last(ctx context.Context, env *Env, job *config.Job) *LastRun {
	r := RepoOf(job)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := env.OpenStore(ctx, r.Dest, store.Options{})
	if err != nil {
		return &LastRun{Err: err.Error()}
	}
	defer b.Close()
	key := r.Manifest
	if key == "" {
		key = reposync.DefaultManifestKey
	}
	data, _, err := b.Read(ctx, key)
	if errors.Is(err, store.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &LastRun{Err: err.Error()}
	}
	var m reposync.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return &LastRun{Err: fmt.Sprintf("manifest unreadable: %v", err)}
	}
	return &LastRun{Commit: m.Commit, At: m.WrittenAt, Objects: m.ObjectCount()}
}
