package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

// GitOptions configure a git source.
type GitOptions struct {
	// Logger receives progress messages; nil discards them.
	Logger *slog.Logger
	// Auth authenticates to a remote (e.g. *http.BasicAuth with a token, or
	// an ssh auth method). nil means none for https and file, and the ssh
	// agent for ssh.
	Auth transport.AuthMethod
	// RetryBase is the first wait before a remote ref listing or clone
	// that failed on the network is tried again (0: DefaultReadRetryBase).
	RetryBase time.Duration
}

// Git is a git commit's tree, read through go-git: either a local
// checkout's HEAD commit (not its working tree) or a branch, tag or HEAD of
// a remote, cloned into memory at depth 1.
type Git struct {
	desc string
	log  *slog.Logger
	auth transport.AuthMethod
	// retryBase: see GitOptions.RetryBase (gitretry.go).
	retryBase time.Duration

	path string // checkout; "" for a remote
	url  string // remote URL without "git+"
	ref  string // remote ref as given; "" = HEAD

	mu      sync.Mutex
	repo    *git.Repository // the checkout, or the in-memory clone
	commit  plumbing.Hash   // resolved commit
	refName plumbing.ReferenceName
	known   func(path string) (Known, bool) // the last run's record (UseKnown)
}

// UseKnown implements StatCache: List takes the size of a blob the last
// run recorded at the same path with the same SHA from that record (a blob
// SHA names its content, so its size too) instead of looking the object up
// in the repository, which for 100,000 files is most of a listing's cost.
// known is called only by List, so a run that is up to date never needs it.
func (g *Git) UseKnown(known func(path string) (Known, bool)) {
	g.mu.Lock()
	g.known = known
	g.mu.Unlock()
}

var _ Source = (*Git)(nil)

// NewGitCheckout opens the git repository holding path (path may be a
// subdirectory or a linked worktree; packed objects are fine). The source
// yields the tree of its HEAD commit.
func NewGitCheckout(path string, opts GitOptions) (*Git, error) {
	repo, err := openCheckout(path)
	if err != nil {
		return nil, err
	}
	return &Git{desc: "checkout:" + path, log: logger(opts.Logger), path: path, repo: repo}, nil
}

func openCheckout(path string) (*git.Repository, error) {
	repo, err := git.PlainOpenWithOptions(path, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("open git checkout %s: %w", path, err)
	}
	return repo, nil
}

// NewGitRemote returns a source for ref (a branch, a tag, or "" / "HEAD"
// for the remote's default) of the remote at rawURL, which is a
// git+https://, git+ssh:// or git+file:// URL (the "git+" prefix is
// optional). Nothing is contacted until Resolve.
func NewGitRemote(rawURL, ref string, opts GitOptions) (*Git, error) {
	raw := strings.TrimPrefix(rawURL, "git+")
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("git remote %q: %w", redactURL(raw), err)
	}
	switch u.Scheme {
	case "https", "http", "ssh", "file":
	default:
		return nil, fmt.Errorf("git remote %q: scheme must be git+https, git+ssh or git+file", redactURL(raw))
	}
	desc := "git+" + redactURL(raw)
	if ref != "" {
		desc += "#" + ref
	}
	base := opts.RetryBase
	if base <= 0 {
		base = DefaultReadRetryBase
	}
	return &Git{desc: desc, log: logger(opts.Logger), auth: opts.Auth, url: raw, ref: ref, retryBase: base}, nil
}

// redactURL drops any password from a URL so it can be logged.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if i := strings.LastIndex(raw, "@"); err != nil && i >= 0 {
			return "…" + raw[i:] // unparsable: keep only what follows credentials
		}
		return raw
	}
	u.User = url.User(u.User.Username())
	return u.String()
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// String describes the source without secrets.
func (g *Git) String() string { return g.desc }

// Resolve finds the commit. For a checkout it reads HEAD. For a remote it
// first lists the remote's refs (one small request); when the ref's commit
// equals hint.Commit it returns NotModified without cloning, otherwise it
// clones the ref at depth 1 into memory.
func (g *Git) Resolve(ctx context.Context, hint Hint) (Revision, error) {
	if g.path != "" {
		return g.resolveCheckout(hint)
	}
	name, hash, err := g.lsRemote(ctx)
	if err != nil {
		return Revision{}, err
	}
	g.mu.Lock()
	g.refName, g.commit, g.repo = name, hash, nil
	g.mu.Unlock()
	if hint.Commit != "" && hint.Commit == hash.String() {
		return Revision{Commit: hash.String(), Ref: name.String(), NotModified: true}, nil
	}
	if err := g.clone(ctx); err != nil {
		return Revision{}, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return Revision{Commit: g.commit.String(), Ref: g.refName.String()}, nil
}

func (g *Git) resolveCheckout(hint Hint) (Revision, error) {
	head, err := g.repo.Head()
	if err != nil {
		return Revision{}, fmt.Errorf("%s: read HEAD: %w", g.desc, err)
	}
	if _, err := g.repo.CommitObject(head.Hash()); err != nil {
		return Revision{}, fmt.Errorf("%s: HEAD commit %s: %w", g.desc, head.Hash(), err)
	}
	g.mu.Lock()
	g.commit, g.refName = head.Hash(), head.Name()
	g.mu.Unlock()
	sha := head.Hash().String()
	return Revision{Commit: sha, Ref: head.Name().String(), NotModified: hint.Commit != "" && hint.Commit == sha}, nil
}

// lsRemote lists the remote's refs and picks g.ref.
func (g *Git) lsRemote(ctx context.Context) (plumbing.ReferenceName, plumbing.Hash, error) {
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{g.url}})
	var refs []*plumbing.Reference
	err := g.retry(ctx, "list refs", func() (err error) {
		refs, err = rem.ListContext(ctx, &git.ListOptions{Auth: g.auth, PeelingOption: git.AppendPeeled})
		return err
	})
	if err != nil {
		return "", plumbing.ZeroHash, fmt.Errorf("%s: list refs: %w", g.desc, err)
	}
	name, hash, err := pickRef(refs, g.ref)
	if err != nil {
		return "", plumbing.ZeroHash, fmt.Errorf("%s: %w", g.desc, err)
	}
	g.log.Debug("git remote resolved", "source", g.desc, "ref", name.String(), "commit", hash.String())
	return name, hash, nil
}

// pickRef finds ref ("" or "HEAD" for the default branch, a branch, a tag or
// a full ref name) among advertised refs and returns its name and commit
// (annotated tags are peeled).
func pickRef(refs []*plumbing.Reference, ref string) (plumbing.ReferenceName, plumbing.Hash, error) {
	byName := make(map[plumbing.ReferenceName]*plumbing.Reference, len(refs))
	for _, r := range refs {
		byName[r.Name()] = r
	}
	if ref == "" || ref == "HEAD" {
		head, ok := byName[plumbing.HEAD]
		if !ok {
			return "", plumbing.ZeroHash, errors.New("remote advertises no HEAD (empty repository?)")
		}
		if head.Type() == plumbing.HashReference {
			return plumbing.HEAD, head.Hash(), nil
		}
		target, ok := byName[head.Target()]
		if !ok {
			return "", plumbing.ZeroHash, fmt.Errorf("remote HEAD points to %s, which it does not advertise", head.Target())
		}
		return target.Name(), target.Hash(), nil
	}
	candidates := []plumbing.ReferenceName{plumbing.NewBranchReferenceName(ref), plumbing.NewTagReferenceName(ref)}
	if strings.HasPrefix(ref, "refs/") {
		candidates = []plumbing.ReferenceName{plumbing.ReferenceName(ref)}
	}
	for _, c := range candidates {
		r, ok := byName[c]
		if !ok || r.Type() != plumbing.HashReference {
			continue
		}
		if peeled, ok := byName[plumbing.ReferenceName(c.String()+"^{}")]; ok {
			return c, peeled.Hash(), nil
		}
		return c, r.Hash(), nil
	}
	if plumbing.IsHash(ref) {
		return "", plumbing.ZeroHash, fmt.Errorf("ref %q not found: git remotes take a branch or tag, not a commit SHA", ref)
	}
	return "", plumbing.ZeroHash, fmt.Errorf("ref %q not found on the remote (no branch or tag of that name)", ref)
}

// clone fetches g.refName at depth 1 into memory and sets g.repo and
// g.commit (the cloned commit, which wins if the remote moved since
// lsRemote).
func (g *Git) clone(ctx context.Context) error {
	g.mu.Lock()
	name := g.refName
	g.mu.Unlock()
	opts := &git.CloneOptions{URL: g.url, Auth: g.auth, SingleBranch: true, Depth: 1, NoCheckout: true, Tags: git.NoTags}
	if name != plumbing.HEAD {
		opts.ReferenceName = name
	}
	var repo *git.Repository
	err := g.retry(ctx, "clone", func() (err error) {
		repo, err = git.CloneContext(ctx, memory.NewStorage(), nil, opts) // fresh storage per attempt
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: clone %s: %w", g.desc, name, err)
	}
	hash, err := cloneCommit(repo, name)
	if err != nil {
		return fmt.Errorf("%s: %w", g.desc, err)
	}
	g.mu.Lock()
	g.repo, g.commit = repo, hash
	g.mu.Unlock()
	return nil
}

// cloneCommit returns the commit a cloned ref points to, peeling tags.
func cloneCommit(repo *git.Repository, name plumbing.ReferenceName) (plumbing.Hash, error) {
	var h plumbing.Hash
	if name == plumbing.HEAD {
		head, err := repo.Head()
		if err != nil {
			return h, fmt.Errorf("cloned HEAD: %w", err)
		}
		h = head.Hash()
	} else {
		r, err := repo.Reference(name, true)
		if err != nil {
			return h, fmt.Errorf("cloned ref %s: %w", name, err)
		}
		h = r.Hash()
	}
	if tag, err := repo.TagObject(h); err == nil {
		c, err := tag.Commit()
		if err != nil {
			return h, fmt.Errorf("tag %s: %w", name, err)
		}
		return c.Hash, nil
	}
	return h, nil
}

// state returns the repository and commit to read, cloning a remote first
// if Resolve answered NotModified without one.
func (g *Git) state(ctx context.Context) (*git.Repository, plumbing.Hash, error) {
	g.mu.Lock()
	repo, commit := g.repo, g.commit
	g.mu.Unlock()
	if commit.IsZero() {
		return nil, commit, fmt.Errorf("%s: List or Fetch before Resolve", g.desc)
	}
	if repo == nil {
		if err := g.clone(ctx); err != nil {
			return nil, commit, err
		}
		g.mu.Lock()
		repo, commit = g.repo, g.commit
		g.mu.Unlock()
	}
	return repo, commit, nil
}

// List walks the resolved commit's tree and returns its entries sorted by
// Path; blob SHAs come straight from git, sizes from the object store,
// symlink targets from their blobs. Submodules are ModeSubmodule with the
// submodule commit in Blob and Size 0.
func (g *Git) List(ctx context.Context) ([]Entry, error) {
	repo, commit, err := g.state(ctx)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	known := g.known
	g.mu.Unlock()
	entries, err := listCommit(ctx, repo, commit, known)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", g.desc, err)
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	return entries, nil
}
