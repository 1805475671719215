package source

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxSymlinkTarget bounds how much of a symlink blob is read as its target.
const maxSymlinkTarget = 64 << 10

// listCommit returns the entries of commit's tree (unsorted). Unlike
// go-git's TreeWalker it fails on a missing tree instead of stopping early,
// and it refuses entry names that could escape a prefix. known (nil: none)
// gives the sizes of blobs the last run recorded (Git.UseKnown).
func listCommit(ctx context.Context, repo *git.Repository, commit plumbing.Hash, known func(string) (Known, bool)) ([]Entry, error) {
	c, err := repo.CommitObject(commit)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", commit, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("tree of commit %s: %w", commit, err)
	}
	var out []Entry
	w := treeWalker{repo: repo, known: known}
	if err := w.walk(ctx, tree, "", &out); err != nil {
		return nil, err
	}
	return out, nil
}

// treeWalker lists trees of one repository.
type treeWalker struct {
	repo  *git.Repository
	known func(string) (Known, bool) // nil: look every size up
}

// size returns a blob's size: from the last run's record when it has the
// same blob at path, else from the object store.
func (w treeWalker) size(path string, h plumbing.Hash) (int64, error) {
	if w.known != nil {
		if k, ok := w.known(path); ok && BlobFromSum(h).Is(k.Blob) {
			return k.Size, nil
		}
	}
	return w.repo.Storer.EncodedObjectSize(h)
}

func (w treeWalker) walk(ctx context.Context, t *object.Tree, prefix string, out *[]Entry) error {
	repo := w.repo
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, te := range t.Entries {
		p := prefix + te.Name
		if te.Name == "" || te.Name == "." || te.Name == ".." || strings.ContainsAny(te.Name, "/\x00") {
			return fmt.Errorf("tree entry %q under %q: invalid name", te.Name, prefix)
		}
		e := Entry{Path: p, Blob: BlobFromSum(te.Hash)}
		switch te.Mode {
		case filemode.Dir:
			sub, err := repo.TreeObject(te.Hash)
			if err != nil {
				return fmt.Errorf("tree %s (%s): %w", p, te.Hash, err)
			}
			if err := w.walk(ctx, sub, p+"/", out); err != nil {
				return err
			}
			continue
		case filemode.Regular, filemode.Deprecated:
			e.Mode = ModeFile
		case filemode.Executable:
			e.Mode = ModeExec
		case filemode.Symlink:
			e.Mode = ModeSymlink
			target, err := readSymlink(repo, te.Hash)
			if err != nil {
				return fmt.Errorf("symlink %s: %w", p, err)
			}
			e.Target = target
			e.Size = int64(len(target))
			*out = append(*out, e)
			continue
		case filemode.Submodule:
			e.Mode = ModeSubmodule
			*out = append(*out, e)
			continue
		default:
			return fmt.Errorf("tree entry %s: unsupported mode %s", p, te.Mode)
		}
		size, err := w.size(p, te.Hash)
		if err != nil {
			return fmt.Errorf("size of %s (%s): %w", p, te.Hash, err)
		}
		e.Size = size
		*out = append(*out, e)
	}
	return nil
}

func readSymlink(repo *git.Repository, h plumbing.Hash) (string, error) {
	b, err := repo.BlobObject(h)
	if err != nil {
		return "", fmt.Errorf("blob %s: %w", h, err)
	}
	if b.Size > maxSymlinkTarget {
		return "", fmt.Errorf("target is %d bytes, more than %d", b.Size, maxSymlinkTarget)
	}
	rc, err := b.Reader()
	if err != nil {
		return "", fmt.Errorf("blob %s: %w", h, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxSymlinkTarget))
	if err != nil {
		return "", fmt.Errorf("blob %s: %w", h, err)
	}
	return string(data), nil
}

// Fetch reads each entry's blob from the object store, at most concurrency
// at a time, and hands it to fn (verified against the listed size and blob
// SHA while fn reads). A symlink's content is its target; a submodule's is
// empty. A checkout gives every concurrent reader its own repository
// handle, since go-git's on-disk storage is not safe for concurrent reads.
func (g *Git) Fetch(ctx context.Context, entries []Entry, concurrency int, fn FetchFunc) error {
	repo, _, err := g.state(ctx)
	if err != nil {
		return err
	}
	concurrency = max(concurrency, 1)
	handles := make(chan *git.Repository, concurrency)
	handles <- repo
	for range concurrency - 1 {
		h := repo
		if g.path != "" {
			if h, err = openCheckout(g.path); err != nil {
				return err
			}
		}
		handles <- h
	}
	return runBounded(ctx, entries, concurrency, func(ctx context.Context, e Entry) error {
		switch e.Mode {
		case ModeSymlink:
			return fn(ctx, e, strings.NewReader(e.Target))
		case ModeSubmodule:
			return fn(ctx, e, strings.NewReader(""))
		}
		h := <-handles
		defer func() { handles <- h }()
		sum, ok := e.Blob.Sum()
		if !ok {
			return fmt.Errorf("%s: blob %s: %q is not a git blob SHA-1", g.desc, e.Path, e.Blob)
		}
		b, err := h.BlobObject(plumbing.Hash(sum))
		if err != nil {
			return fmt.Errorf("%s: blob %s (%s): %w", g.desc, e.Path, e.Blob, err)
		}
		rc, err := b.Reader()
		if err != nil {
			return fmt.Errorf("%s: read blob %s (%s): %w", g.desc, e.Path, e.Blob, err)
		}
		defer rc.Close()
		return fn(ctx, e, newVerifyingReader(rc, e))
	})
}
