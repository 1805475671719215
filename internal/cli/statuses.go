package cli

import (
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
				return jobs.Usagef("statuses needs OWNER/REPO and DST (got %d arguments); see ghsync statuses --help", len(args))
			}
			if len(branches) == 0 {
				return jobs.Usagef("statuses needs at least one --branch")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			job := map[string]any{"name": "statuses", "kind": jobs.KindStatuses, "repo": args[0], "dest": args[1], "branches": branches}
			if cmd.Flags().Changed("history-size") {
				job["history_size"] = historySize
			}
			if cmd.Flags().Changed("format") {
				job["format"] = format
			}
			cfg, err := a.flagsConfig(job, map[string]string{"repo": "OWNER/REPO", "dest": "DST", "branches": "--branch"})
			if err != nil {
				return err
			}
			j, _ := cfg.Job("statuses")
			return a.runJob(cmd, cfg, j, changeFlags{dryRun: dryRun, json: asJSON}, true, "")
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
