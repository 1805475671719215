package jobs

import (
	"fmt"
	"io"

	"github.com/ghsync/ghsync/internal/reposync"
)

// writeRepoText writes the human form of a repo sync's summary; err is the
// run's error (a failed run prints what it did before failing, if anything).
func writeRepoText(w io.Writer, s *reposync.Summary, err error) {
	if err != nil {
		if s.Changed() {
			fmt.Fprintf(w, "failed part-way after %d new, %d modified, %d deleted (the next run converges)\n",
				s.New, s.Modified, s.Deleted)
		}
		return
	}
	verb := "synced"
	if s.DryRun {
		verb = "would sync"
	}
	if s.UpToDate {
		fmt.Fprintf(w, "up to date: %s at %s (%d objects unchanged, %s", s.Source, ShortSHA(s.Commit), s.Unchanged, s.SkippedText())
		if s.GitHubRequests > 0 {
			fmt.Fprintf(w, "; %d GitHub requests, %d not modified", s.GitHubRequests, s.GitHubNotModified)
		}
		fmt.Fprintln(w, ")")
		return
	}
	fmt.Fprintf(w, "%s %s → %s at %s: %d new, %d modified, %d deleted, %d unchanged, %s",
		verb, s.Source, s.Dest, ShortSHA(s.Commit), s.New, s.Modified, s.Deleted, s.Unchanged, s.SkippedText())
	if s.Adopted > 0 || s.Repaired > 0 {
		fmt.Fprintf(w, " (%d adopted, %d repaired)", s.Adopted, s.Repaired)
	}
	if s.DryRun {
		fmt.Fprintln(w, " (dry run: nothing changed)")
	} else {
		fmt.Fprintf(w, "; %.1f MB uploaded in %.1fs\n", float64(s.BytesUploaded)/1e6, float64(s.DurationMS)/1000)
	}
	if s.DryRun {
		for _, l := range []struct {
			sign  string
			paths []string
			count int // the summary keeps the first paths only
		}{{"+", s.Paths.New, s.New}, {"~", s.Paths.Modified, s.Modified}, {"-", s.Paths.Deleted, s.Deleted}, {"!", s.Paths.Skipped, s.Skipped}} {
			for _, p := range l.paths {
				fmt.Fprintf(w, "  %s %s\n", l.sign, p)
			}
			if more := l.count - len(l.paths); more > 0 && len(l.paths) > 0 {
				fmt.Fprintf(w, "  %s …and %d more\n", l.sign, more)
			}
		}
	}
}
