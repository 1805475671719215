package cli

import (
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5"

	"github.com/ghsync/ghsync/internal/reposync/source"
)

// worktreeNote says, for a SRC that is a local checkout, what its working
// tree holds that a sync does not mirror (it mirrors the HEAD commit):
// "mirroring HEAD abc1234; 1 modified, 2 untracked files are not included
// (commit them to sync them, or use dir:PATH for the folder as it is)".
// It returns "" for other sources, a clean tree, or when git cannot tell.
func worktreeNote(src string) string {
	sp, err := source.ParseSpec(src)
	if err != nil || sp.Kind != source.KindCheckout {
		return ""
	}
	repo, err := git.PlainOpen(sp.Path)
	if err != nil {
		return ""
	}
	head, err := repo.Head()
	if err != nil {
		return ""
	}
	wt, err := repo.Worktree()
	if err != nil {
		return ""
	}
	st, err := wt.Status()
	if err != nil {
		return ""
	}
	var modified, untracked, staged int
	for _, fs := range st {
		switch {
		case fs.Worktree == git.Untracked:
			untracked++
		case fs.Worktree != git.Unmodified:
			modified++
		case fs.Staging != git.Unmodified:
			staged++
		}
	}
	if modified+untracked+staged == 0 {
		return ""
	}
	var parts []string
	if modified > 0 {
		parts = append(parts, fmt.Sprintf("%d modified", modified))
	}
	if staged > 0 {
		parts = append(parts, fmt.Sprintf("%d staged", staged))
	}
	if untracked > 0 {
		parts = append(parts, fmt.Sprintf("%d untracked", untracked))
	}
	files := "files are"
	if modified+untracked+staged == 1 {
		files = "file is"
	}
	return fmt.Sprintf("mirroring HEAD %s; %s %s not included (commit them to sync them, or use dir:%s for the folder as it is)",
		head.Hash().String()[:7], strings.Join(parts, ", "), files, src)
}
