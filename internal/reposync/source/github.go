package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ghsync/ghsync/internal/archive"
	"github.com/ghsync/ghsync/internal/github"
)

// GitHubAPI is the part of the GitHub client a GitHub source uses
// (implemented by *github.RepoClient).
type GitHubAPI interface {
	ResolveCommit(ctx context.Context, ref, etag string) (sha, newETag string, notModified bool, err error)
	Tree(ctx context.Context, sha string) ([]github.TreeEntry, bool, error)
	Blob(ctx context.Context, sha string) (io.ReadCloser, error)
	Archive(ctx context.Context, format, ref string) (io.ReadCloser, error)
	Release(ctx context.Context, tag string) (*github.Release, error)
	Asset(ctx context.Context, id int64) (io.ReadCloser, error)
}

// GitHubOptions tune a GitHub source.
type GitHubOptions struct {
	Assets bool           // releases: also sync assets, under assets/NAME
	Limits archive.Limits // for tarball reads
	// RateRemaining, when set, reports the remaining primary rate limit
	// (known=false when not seen yet); the cost model avoids spending it.
	RateRemaining func() (remaining int, known bool)
	// Stats reports the client's counters for the summary.
	Stats func() Stats
	// ReadRetries bounds how many downloads cut while their body was read
	// (reset, shorter than announced) one run resumes in all: 0 means
	// DefaultReadRetries, negative none. ReadRetryBase is the first wait
	// between attempts on one stream (0: DefaultReadRetryBase).
	ReadRetries   int
	ReadRetryBase time.Duration
	// Logger receives a warning per resumed download; nil discards them.
	Logger *slog.Logger
}

// GitHub is a repository ref (or release) read through the REST API.
type GitHub struct {
	api  GitHubAPI
	spec Spec
	opts GitHubOptions

	commit  string
	release *github.Release
	tree    []Entry // set by List; used by the cost model
	base    Stats   // client counters when the source was created
	reads   *ReadBudget
}

// NewGitHub returns a source for spec (Kind github) over api.
func NewGitHub(api GitHubAPI, spec Spec, opts GitHubOptions) *GitHub {
	g := &GitHub{api: api, spec: spec, opts: opts, reads: NewReadBudget(opts.ReadRetries, opts.ReadRetryBase, opts.Logger)}
	if opts.Stats != nil {
		g.base = opts.Stats()
	}
	return g
}

// String implements Source.
func (g *GitHub) String() string {
	s := "github:" + g.spec.Owner + "/" + g.spec.Repo
	switch {
	case g.spec.Release != "":
		s += "@release:" + g.spec.Release
	case g.spec.Ref != "":
		s += "@" + g.spec.Ref
	}
	return s
}

// Stats implements StatsReporter: requests made since the source was created.
func (g *GitHub) Stats() Stats {
	if g.opts.Stats == nil {
		return Stats{}
	}
	s := g.opts.Stats()
	return Stats{Requests: s.Requests - g.base.Requests, NotModified: s.NotModified - g.base.NotModified,
		BytesDownloaded: s.BytesDownloaded - g.base.BytesDownloaded}
}

// TemplateVars are the key-template variables of the resolved revision.
func (g *GitHub) TemplateVars() map[string]string {
	v := map[string]string{"owner": g.spec.Owner, "repo": g.spec.Repo, "ref": g.spec.Ref, "commit": g.commit}
	if g.release != nil {
		v["tag"] = g.release.TagName
	}
	return v
}

// ReleaseResolver is implemented by a GitHubAPI that resolves a release
// and its tag's commit together (*github.RepoClient: one conditional
// request when the release did not change).
type ReleaseResolver interface {
	ResolveRelease(ctx context.Context, tag string) (rel *github.Release, sha, commitETag string, err error)
}

// Resolve implements Source with one conditional request for a ref. A
// release costs one conditional request when it did not change (through
// ReleaseResolver), else one more for its tag's commit.
func (g *GitHub) Resolve(ctx context.Context, hint Hint) (Revision, error) {
	ref := g.spec.Ref
	if rr, ok := g.api.(ReleaseResolver); ok && g.spec.Release != "" {
		rel, sha, etag, err := rr.ResolveRelease(ctx, g.spec.Release)
		if err != nil {
			return Revision{}, fmt.Errorf("release %s: %w", g.spec.Release, err)
		}
		g.release, g.commit = rel, sha
		return Revision{Commit: sha, Ref: rel.TagName, ETag: etag}, nil
	}
	if g.spec.Release != "" {
		rel, err := g.api.Release(ctx, g.spec.Release)
		if err != nil {
			return Revision{}, fmt.Errorf("release %s: %w", g.spec.Release, err)
		}
		g.release, ref = rel, rel.TagName
	}
	if ref == "" {
		ref = "HEAD"
	}
	sha, etag, notModified, err := g.api.ResolveCommit(ctx, ref, hint.ETag)
	if err != nil {
		return Revision{}, err
	}
	if notModified {
		sha, etag = hint.Commit, hint.ETag
	}
	g.commit = sha
	return Revision{Commit: sha, Ref: ref, ETag: etag, NotModified: notModified}, nil
}

// List implements Source with one recursive tree request, falling back to
// reading the tarball when GitHub truncates the listing.
func (g *GitHub) List(ctx context.Context) ([]Entry, error) {
	if g.commit == "" {
		return nil, errors.New("github source: List before Resolve")
	}
	tes, truncated, err := g.api.Tree(ctx, g.commit)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", g.commit, err)
	}
	var entries []Entry
	if truncated {
		entries, err = g.listFromTarball(ctx)
		if err != nil {
			return nil, fmt.Errorf("tree %s was truncated; listing from the tarball: %w", g.commit, err)
		}
	} else if entries, err = g.fromTree(ctx, tes); err != nil {
		return nil, err
	}
	if g.opts.Assets && g.release != nil {
		for _, a := range g.release.Assets {
			entries = append(entries, Entry{Path: "assets/" + a.Name, Mode: ModeFile, Size: a.Size,
				Blob: AssetBlob(a.ID, a.Size)})
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	g.tree = entries
	return entries, nil
}

// fromTree maps tree entries; symlink targets are read (one small blob each).
func (g *GitHub) fromTree(ctx context.Context, tes []github.TreeEntry) ([]Entry, error) {
	out := make([]Entry, 0, len(tes))
	for _, te := range tes {
		blob, err := ParseBlob(te.SHA)
		if err != nil || !blob.IsSHA1() {
			return nil, fmt.Errorf("tree entry %s: %q is not a git SHA-1", te.Path, te.SHA)
		}
		e := Entry{Path: te.Path, Size: te.Size, Blob: blob}
		switch te.Mode {
		case "100644", "100664":
			e.Mode = ModeFile
		case "100755":
			e.Mode = ModeExec
		case "120000":
			e.Mode = ModeSymlink
			target, err := g.readSmall(ctx, te.SHA, te.Size)
			if err != nil {
				return nil, fmt.Errorf("symlink %s: %w", te.Path, err)
			}
			e.Target = target
		case "160000":
			e.Mode, e.Size = ModeSubmodule, 0
		default: // "040000" trees
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// readSmall reads a symlink's blob (its target), resuming a cut read.
func (g *GitHub) readSmall(ctx context.Context, sha string, size int64) (string, error) {
	rc, err := g.blob(ctx, sha, sha, size)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 4096))
	return string(b), err
}

// blob opens blob sha (of path) for reading; a read cut short is resumed
// within the run's read budget.
func (g *GitHub) blob(ctx context.Context, path, sha string, size int64) (io.ReadCloser, error) {
	return openResuming(ctx, "blob "+path+" ("+sha+")", size, func(ctx context.Context) (io.ReadCloser, error) {
		return g.api.Blob(ctx, sha)
	}, g.reads)
}

// tarball opens the commit's tarball for reading; a read cut short is
// resumed within the run's read budget.
func (g *GitHub) tarball(ctx context.Context) (io.ReadCloser, error) {
	return openResuming(ctx, "tarball "+g.commit, -1, func(ctx context.Context) (io.ReadCloser, error) {
		return g.api.Archive(ctx, "tarball", g.commit)
	}, g.reads)
}

// Archive implements the engine's ArchiveSource: GitHub's own archive of the
// resolved commit, streamed.
func (g *GitHub) Archive(ctx context.Context, format string) (io.ReadCloser, error) {
	kind := "zipball"
	if format == "tar.gz" {
		kind = "tarball"
	}
	return openResuming(ctx, kind+" "+g.commit, -1, func(ctx context.Context) (io.ReadCloser, error) {
		return g.api.Archive(ctx, kind, g.commit)
	}, g.reads)
}

// cost model constants: a request costs about as much as this many bytes
// of transfer; a tarball is about this fraction of the tree's raw size.
const (
	requestCostBytes = 256 << 10
	tarballRatio     = 0.35
	minTarballFiles  = 64
)

// useTarball decides between one raw-blob request per entry and one
// streamed tarball for the whole tree.
func (g *GitHub) useTarball(entries []Entry) bool {
	var want, total int64
	n := 0
	for _, e := range entries {
		if !e.Blob.IsAsset() {
			want += e.Size
			n++
		}
	}
	if n < minTarballFiles {
		return false
	}
	for _, e := range g.tree {
		total += e.Size
	}
	if g.opts.RateRemaining != nil {
		if rem, known := g.opts.RateRemaining(); known && n > rem-10 {
			return true
		}
	}
	blobs := float64(n)*requestCostBytes + float64(want)
	tar := requestCostBytes + float64(total)*tarballRatio
	return tar < blobs
}

// Fetch implements Source, choosing raw blobs or the tarball by cost.
func (g *GitHub) Fetch(ctx context.Context, entries []Entry, concurrency int, fn FetchFunc) error {
	var blobs, assets []Entry
	for _, e := range entries {
		if e.Blob.IsAsset() {
			assets = append(assets, e)
		} else {
			blobs = append(blobs, e)
		}
	}
	if err := g.fetchAssets(ctx, assets, concurrency, fn); err != nil {
		return err
	}
	if g.useTarball(blobs) {
		return g.fetchTarball(ctx, blobs, concurrency, fn)
	}
	return g.fetchBlobs(ctx, blobs, concurrency, fn)
}

func (g *GitHub) fetchBlobs(ctx context.Context, entries []Entry, concurrency int, fn FetchFunc) error {
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(max(concurrency, 1))
	for _, e := range entries {
		eg.Go(func() error {
			if e.Mode == ModeSymlink {
				return fn(ctx, e, strings.NewReader(e.Target))
			}
			rc, err := g.blob(ctx, e.Path, e.Blob.String(), e.Size)
			if err != nil {
				return fmt.Errorf("blob %s (%s): %w", e.Path, e.Blob, err)
			}
			defer rc.Close()
			return fn(ctx, e, rc)
		})
	}
	return eg.Wait()
}

func (g *GitHub) fetchAssets(ctx context.Context, assets []Entry, concurrency int, fn FetchFunc) error {
	if len(assets) == 0 || g.release == nil {
		return nil
	}
	ids := map[string]int64{}
	for _, a := range g.release.Assets {
		ids["assets/"+a.Name] = a.ID
	}
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(max(concurrency, 1))
	for _, e := range assets {
		eg.Go(func() error {
			id := ids[e.Path]
			rc, err := openResuming(ctx, "asset "+e.Path, e.Size, func(ctx context.Context) (io.ReadCloser, error) {
				return g.api.Asset(ctx, id)
			}, g.reads)
			if err != nil {
				return fmt.Errorf("asset %s: %w", e.Path, err)
			}
			defer rc.Close()
			return fn(ctx, e, rc)
		})
	}
	return eg.Wait()
}

// smallEntry is the size up to which tarball entries are buffered and
// uploaded in parallel; larger ones stream inline.
const smallEntry = 1 << 20

// fetchTarball streams the commit's tarball once and hands the wanted
// entries to fn: small ones buffered and dispatched to concurrent workers
// (memory ≤ concurrency × 1 MiB), large ones streamed in order.
func (g *GitHub) fetchTarball(ctx context.Context, entries []Entry, concurrency int, fn FetchFunc) error {
	want := make(map[string]Entry, len(entries))
	for _, e := range entries {
		want[e.Path] = e
	}
	rc, err := g.tarball(ctx)
	if err != nil {
		return fmt.Errorf("tarball %s: %w", g.commit, err)
	}
	defer rc.Close()
	tr, err := archive.NewTarGz(rc, archive.Options{Limits: g.opts.Limits, StripWrapper: true})
	if err != nil {
		return fmt.Errorf("tarball %s: %w", g.commit, err)
	}
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(max(concurrency, 1))
	var mu sync.Mutex
	for {
		if ectx.Err() != nil {
			break
		}
		ae, r, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			eg.Wait()
			return fmt.Errorf("tarball %s: %w", g.commit, err)
		}
		mu.Lock()
		e, ok := want[ae.Path]
		delete(want, ae.Path)
		mu.Unlock()
		if !ok {
			continue
		}
		if e.Mode == ModeSymlink {
			r = strings.NewReader(e.Target)
		}
		if e.Size > smallEntry {
			if err := fn(ectx, e, r); err != nil {
				eg.Wait()
				return err
			}
			continue
		}
		buf, err := io.ReadAll(r)
		if err != nil {
			eg.Wait()
			return fmt.Errorf("tarball entry %s: %w", ae.Path, err)
		}
		eg.Go(func() error { return fn(ectx, e, bytes.NewReader(buf)) })
	}
	if err := eg.Wait(); err != nil {
		return err
	}
	if len(want) > 0 {
		return fmt.Errorf("tarball %s lacks %d entries of the tree (e.g. %s)", g.commit, len(want), anyKey(want))
	}
	return nil
}

// listFromTarball lists the tree from the tarball, hashing each entry.
func (g *GitHub) listFromTarball(ctx context.Context) ([]Entry, error) {
	rc, err := g.tarball(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr, err := archive.NewTarGz(rc, archive.Options{Limits: g.opts.Limits, StripWrapper: true})
	if err != nil {
		return nil, err
	}
	var out []Entry
	for {
		ae, r, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		e, ok, err := entryFromArchive(ae, r)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, e)
		}
	}
}

func anyKey(m map[string]Entry) string {
	for k := range m {
		return k
	}
	return ""
}

// entryFromArchive turns an archive member into a tree entry, hashing its
// content as git does. Directories and hard links are not entries.
func entryFromArchive(ae archive.Entry, r io.Reader) (Entry, bool, error) {
	e := Entry{Path: ae.Path, Size: ae.Size}
	switch ae.Kind {
	case archive.KindFile:
		e.Mode = ModeFile
	case archive.KindExec:
		e.Mode = ModeExec
	case archive.KindSymlink:
		e.Mode, e.Target = ModeSymlink, ae.LinkTarget
		r = strings.NewReader(ae.LinkTarget)
	default:
		return Entry{}, false, nil
	}
	blob, err := HashBlob(r, e.Size)
	if err != nil {
		return Entry{}, false, fmt.Errorf("hash %s: %w", ae.Path, err)
	}
	e.Blob = blob
	return e, true, nil
}
