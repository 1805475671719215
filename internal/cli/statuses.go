package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/statuses"
)

func (a *app) statusesCmd() *cobra.Command {
	var dryRun, asJSON bool
	var branches []string
	var historySize int
	var format string
	cmd := &cobra.Command{
		Use:   "statuses OWNER/REPO DST --branch B [--branch B2]",
		Short: "Write the newest commits of branches with every CI job's status, as JSON for a HUD",
		Long: `Write one gzip-compressed JSON object per branch to DST + OWNER/REPO/BRANCH.json
(every "/" of the branch replaced by "_"): the newest --history-size commits with
the status of every GitHub Actions check run, other apps' check runs and legacy
commit statuses. Only new commits and commits whose jobs had not finished are
fetched; an unchanged snapshot is not rewritten; a branch that could not be
fetched completely keeps its previous object (exit code 1 names it).

GitHub credentials as for sync (GITHUB_TOKEN, or GITHUB_APP_ID + GITHUB_PRIVATE_KEY);
the GraphQL endpoint is derived from the API URL or set with GITHUB_GRAPHQL_URL.`,
		Example: `  ghsync statuses acme/app s3://acme-hud/v5/ --branch main --branch release/2.0
  ghsync statuses acme/app file://./hud --branch main --history-size 50 --format ghsync --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usagef("statuses needs OWNER/REPO and DST (got %d arguments); see ghsync statuses --help", len(args))
			}
			if len(branches) == 0 {
				return usagef("statuses needs at least one --branch")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			job := map[string]any{"name": "statuses", "kind": "statuses", "repo": args[0], "dest": args[1], "branches": branches}
			if cmd.Flags().Changed("history-size") {
				job["history_size"] = historySize
			}
			if cmd.Flags().Changed("format") {
				job["format"] = format
			}
			cfg, err := a.flagsConfig(job)
			if err != nil {
				return err
			}
			j, _ := cfg.Job("statuses")
			sum, err := a.runner(cfg).Statuses(cmd.Context(), j.Statuses, jobs.RunOptions{DryRun: dryRun})
			if sum != nil {
				if asJSON {
					if perr := printJSON(a.env.Stdout, sum); perr != nil && err == nil {
						err = perr
					}
				} else {
					printStatuses(a.env.Stdout, sum)
				}
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&branches, "branch", nil, "branch to snapshot (repeatable)")
	fl.IntVar(&historySize, "history-size", statuses.DefaultHistorySize, "commits per branch (1..1000)")
	fl.StringVar(&format, "format", statuses.FormatV5, "v5 (the HUD's array of commits) or ghsync (richer object)")
	fl.BoolVar(&dryRun, "dry-run", false, "fetch and compare, write nothing")
	fl.BoolVar(&asJSON, "json", false, "print a JSON summary on stdout (logs stay on stderr)")
	return cmd
}

// printStatuses writes the human form of a statuses summary.
func printStatuses(w io.Writer, s *statuses.Summary) {
	for _, b := range s.Branches {
		line := fmt.Sprintf("%-12s %s → %s (%d commits, %d fetched)", b.Result, b.Branch, b.Key, b.Commits, b.Fetched)
		if b.Error != "" {
			line = fmt.Sprintf("%-12s %s: %s", b.Result, b.Branch, b.Error)
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "%s: %d written, %d unchanged, %d failed; %d commits fetched; %d GraphQL requests, cost %d; %.1fs\n",
		s.Repo, s.BranchesWritten, s.BranchesUnchanged, s.BranchesFailed, s.CommitsFetched, s.GraphQLRequests, s.GraphQLCost, float64(s.DurationMS)/1000)
}
