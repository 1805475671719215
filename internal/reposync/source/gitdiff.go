package source

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Change is one path whose entry differs between two revisions: New is the
// entry at the resolved revision, nil when the path was deleted.
type Change struct {
	Path string
	New  *Entry
}

// Differ is implemented by sources that can say, without listing the whole
// tree, which paths changed since an earlier revision (a git commit diff).
type Differ interface {
	// Diff returns the paths whose entry differs between revision from and
	// the resolved one, sorted by path. ok is false when the source cannot
	// tell from a diff alone: from is unknown to it, more than limit paths
	// changed, or a changed path is (or was) anything but a regular or
	// executable file (a symlink or submodule needs the whole listing).
	Diff(ctx context.Context, from string, limit int) (changes []Change, ok bool, err error)
}

var _ Differ = (*Git)(nil)

// Diff implements Differ with go-git's tree diff, which skips subtrees
// whose hashes are equal: its cost follows the change, not the tree.
func (g *Git) Diff(ctx context.Context, from string, limit int) ([]Change, bool, error) {
	repo, commit, err := g.state(ctx)
	if err != nil {
		return nil, false, err
	}
	fromHash := plumbing.NewHash(from)
	if from == "" || fromHash.String() != from {
		return nil, false, nil
	}
	// The last run's commit and tree may be missing (a shallow clone, a
	// rewritten history): then the whole listing decides.
	oldCommit, err := repo.CommitObject(fromHash)
	if err != nil {
		return nil, false, nil
	}
	oldTree, err := oldCommit.Tree()
	if err != nil {
		return nil, false, nil
	}
	newCommit, err := repo.CommitObject(commit)
	if err != nil {
		return nil, false, fmt.Errorf("%s: commit %s: %w", g.desc, commit, err)
	}
	newTree, err := newCommit.Tree()
	if err != nil {
		return nil, false, fmt.Errorf("%s: tree of %s: %w", g.desc, commit, err)
	}
	diff, err := object.DiffTreeWithOptions(ctx, oldTree, newTree, &object.DiffTreeOptions{})
	if err != nil {
		return nil, false, fmt.Errorf("%s: diff %s..%s: %w", g.desc, short7(from), short7(commit.String()), err)
	}
	if len(diff) > limit {
		return nil, false, nil
	}
	out := make([]Change, 0, len(diff))
	for _, c := range diff {
		if (c.From.Name != "" && !plainFile(c.From.TreeEntry.Mode)) || (c.To.Name != "" && !plainFile(c.To.TreeEntry.Mode)) {
			return nil, false, nil
		}
		if c.To.Name == "" {
			out = append(out, Change{Path: c.From.Name})
			continue
		}
		p := c.To.Name
		for _, part := range strings.Split(p, "/") {
			if part == "" || part == "." || part == ".." || strings.Contains(part, "\x00") {
				return nil, false, fmt.Errorf("%s: tree entry %q: invalid name", g.desc, p)
			}
		}
		h := c.To.TreeEntry.Hash
		size, err := repo.Storer.EncodedObjectSize(h)
		if err != nil {
			return nil, false, fmt.Errorf("%s: size of %s (%s): %w", g.desc, p, h, err)
		}
		e := &Entry{Path: p, Mode: ModeFile, Size: size, Blob: BlobFromSum(h)}
		if c.To.TreeEntry.Mode == filemode.Executable {
			e.Mode = ModeExec
		}
		out = append(out, Change{Path: p, New: e})
	}
	slices.SortFunc(out, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
	return out, true, nil
}

// plainFile reports whether a tree entry mode is a regular or executable file.
func plainFile(m filemode.FileMode) bool {
	return m == filemode.Regular || m == filemode.Deprecated || m == filemode.Executable
}

func short7(sha string) string { return sha[:min(len(sha), 7)] }
