package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/reposync"
	"github.com/ghsync/ghsync/internal/statuses"
)

func (a *app) runCmd() *cobra.Command {
	var cf changeFlags
	cmd := &cobra.Command{
		Use:   "run JOB",
		Short: "Run one configured job once, now, in the foreground",
		Long: `Run the job called JOB from the config file once and print its summary.
Failed runs send an error alert; runs that changed something send a change alert
(per the job's alerts: levels). Exit code 1 when the job failed.`,
		Example: "  ghsync run site --config ghsync.yaml --dry-run",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("run needs exactly one JOB name; list them with `ghsync jobs`")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			job, ok := cfg.Job(args[0])
			if !ok {
				return usagef("no job named %q in %s; list them with `ghsync jobs`", args[0], configName(cfg))
			}
			switch job.Kind {
			case config.KindRepo:
			case config.KindStatuses:
				return a.runStatusesJob(cmd, cfg, job.Name, cf)
			default:
				return usagef("job %q has kind %q, which this version cannot run yet", job.Name, job.Kind)
			}
			return a.runRepo(cmd, cfg, func(r *jobs.Runner, ro jobs.RunOptions) (*reposync.Summary, error) {
				res, err := r.Run(cmd.Context(), job.Name, ro)
				if res == nil {
					return nil, err
				}
				sum, _ := res.Summary.(*reposync.Summary)
				return sum, err
			}, cf)
		},
	}
	cf.add(cmd)
	return cmd
}

func configName(cfg *config.Config) string {
	if cfg.File == "" {
		return "the embedded defaults (no config file found)"
	}
	return cfg.File
}

func (a *app) jobsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List the configured jobs with their kind, schedule and source",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			type row struct {
				Name     string        `json:"name"`
				Kind     string        `json:"kind"`
				Schedule string        `json:"schedule,omitempty"`
				Source   string        `json:"source,omitempty"`
				Dest     string        `json:"dest,omitempty"`
				Last     *jobs.LastRun `json:"last,omitempty"`
			}
			r := a.runner(cfg)
			rows := []row{}
			for _, j := range cfg.Jobs {
				row := row{Name: j.Name, Kind: j.Kind, Schedule: j.Schedule}
				switch {
				case j.Repo != nil:
					row.Source, row.Dest = j.Repo.Source, redactURL(j.Repo.Dest)
				case j.Statuses != nil:
					row.Source, row.Dest = j.Statuses.Repo, redactURL(j.Statuses.Dest)
				}
				row.Last = r.Last(cmd.Context(), j)
				rows = append(rows, row)
			}
			if asJSON {
				return printJSON(a.env.Stdout, rows)
			}
			if len(rows) == 0 {
				fmt.Fprintf(a.env.Stdout, "no jobs in %s\n", configName(cfg))
				return nil
			}
			tw := tabwriter.NewWriter(a.env.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tKIND\tSCHEDULE\tSOURCE\tDEST\tLAST SYNC")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Kind, dash(r.Schedule), r.Source, r.Dest, lastText(r.Last))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the list as JSON")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func lastText(l *jobs.LastRun) string {
	switch {
	case l == nil:
		return "never"
	case l.Err != "":
		return "unknown (" + l.Err + ")"
	default:
		return short(l.Commit) + " at " + l.At.UTC().Format("2006-01-02 15:04Z") + fmt.Sprintf(" (%d objects)", l.Objects)
	}
}

// runStatusesJob runs a kind: statuses job and prints its summary.
func (a *app) runStatusesJob(cmd *cobra.Command, cfg *config.Config, name string, cf changeFlags) error {
	res, err := a.runner(cfg).Run(cmd.Context(), name, jobs.RunOptions{DryRun: cf.dryRun})
	if res != nil {
		if sum, ok := res.Summary.(*statuses.Summary); ok && sum != nil {
			if cf.json {
				if perr := printJSON(a.env.Stdout, sum); perr != nil && err == nil {
					err = perr
				}
			} else {
				printStatuses(a.env.Stdout, sum)
			}
		}
	}
	return err
}
