package cli

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
)

// checkReport is the --json object of `ghsync check`.
type checkReport struct {
	Config string       `json:"config"`
	OK     bool         `json:"ok"`
	Failed int          `json:"failed"`
	Checks []jobs.Check `json:"checks"`
}

// errChecksFailed is returned when a check failed (exit 1).
var errChecksFailed = errors.New("some checks failed")

func (a *app) checkCmd() *cobra.Command {
	var jsonOut, create bool
	cmd := &cobra.Command{
		Use:   "check [JOB…]",
		Short: "Check that jobs can run, without running them",
		Long: `Check each configured job (or the named ones) without running it: which
credentials were found and from where (GitHub token or App, with the
repository's access and the rate limit left; AWS, Google Cloud, Azure;
Airtable and Badgr sign-in; the SMTP server or SES), the callback endpoint,
every store reachable (the bucket exists, and is writable: a probe object is
written under PREFIX/.ghsync/ and removed at once), the database reachable and
migrated. Nothing else is written; no database or folder is created.

One line per check: ok, or what is wrong and what to set. Exit 0 when every
check passed, 1 when one failed, 2 for a bad configuration.`,
		Example: `  ghsync check
  ghsync check site uploads --json
  ghsync check --create-bucket   # create missing s3/gs/azblob buckets`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			sel := cfg.Jobs
			if len(args) > 0 {
				sel = nil
				for _, name := range args {
					j, ok := cfg.Job(name)
					if !ok {
						return jobs.Usagef("no job named %q in %s (known: %s)", name, configName(cfg), strings.Join(jobNames(cfg), ", "))
					}
					sel = append(sel, j)
				}
			}
			if len(sel) == 0 {
				return jobs.Usagef("%s has no jobs to check", configName(cfg))
			}
			r := a.runner(cfg)
			defer r.Close()
			rep := checkReport{Config: configName(cfg), Checks: []jobs.Check{}}
			for _, j := range sel {
				rep.Checks = append(rep.Checks, r.Registry().Checks(cmd.Context(), r.Env(), j, jobs.CheckOptions{CreateBucket: create})...)
			}
			for _, c := range rep.Checks {
				if !c.OK {
					rep.Failed++
				}
			}
			rep.OK = rep.Failed == 0
			if jsonOut {
				a.emitJSON(rep)
			} else {
				writeChecks(a, rep)
			}
			if !rep.OK {
				return fmt.Errorf("%w: %d of %d", errChecksFailed, rep.Failed, len(rep.Checks))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON object: {config, ok, failed, checks: [{job, check, ok, detail, fix}]}")
	cmd.Flags().BoolVar(&create, "create-bucket", false, "create a missing bucket or container (s3, gs, azblob) instead of reporting it")
	return cmd
}

// writeChecks prints one line per check: JOB  CHECK  ok|FAIL  detail, and
// for a failure the fix on the next line.
func writeChecks(a *app, rep checkReport) {
	tw := tabwriter.NewWriter(a.env.Stdout, 0, 4, 2, ' ', 0)
	for _, c := range rep.Checks {
		st := "ok"
		if !c.OK {
			st = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Job, c.Name, st, c.Detail)
		if !c.OK && c.Fix != "" {
			fmt.Fprintf(tw, "\t\t\t→ %s\n", c.Fix)
		}
	}
	_ = tw.Flush()
	fmt.Fprintf(a.env.Stdout, "%d checks, %d failed\n", len(rep.Checks), rep.Failed)
}

// jobNames lists cfg's job names.
func jobNames(cfg *config.Config) []string {
	var out []string
	for _, j := range cfg.Jobs {
		out = append(out, j.Name)
	}
	return out
}
