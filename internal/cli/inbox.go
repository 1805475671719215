package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ghsync/ghsync/internal/inbox"
	"github.com/ghsync/ghsync/internal/jobs"
)

func (a *app) inboxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inbox",
		Short: "Inbox tools (inbox jobs check, report and promote uploaded files)",
	}
	cmd.AddCommand(a.inboxCheckCmd())
	return cmd
}

func (a *app) inboxCheckCmd() *cobra.Command {
	var jobName string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "check FILE…",
		Short: "Run an inbox's file checks on local files and print the results; nothing else happens",
		Long: `Run the checks of an inbox job (--job) or the original's default checks on
local files: size, encoding, delimiter, columns, rows and profile. Prints one
result per file (--json: one JSON object per line with file, valid, rows,
encoding, delimiter, profile and errors). Exits 1 when any file fails.`,
		Example: `  ghsync inbox check districts.csv stations.tsv
  ghsync inbox check --job council-uploads --json *.csv`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return jobs.Usagef("inbox check needs at least one FILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var specs []inbox.CheckSpec
			if jobName != "" {
				cfg, err := a.loadConfig()
				if err != nil {
					return err
				}
				job, ok := cfg.Job(jobName)
				if !ok {
					return jobs.Usagef("--job %s: no such job", jobName)
				}
				settings, ok := job.Settings.(*inbox.Config)
				if !ok {
					return jobs.Usagef("--job %s: a %s job, not an inbox job", jobName, job.Kind)
				}
				specs = settings.Checks
			}
			ok, err := inbox.CheckFiles(cmd.Context(), a.env.Stdout, args, specs, jsonOut)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("some files failed the checks")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&jobName, "job", "", "use this inbox job's checks (default: the original's)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON object per file")
	return cmd
}
