package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/schedule"
	"github.com/ghsync/ghsync/internal/scheduler"
)

func (a *app) runCmd() *cobra.Command {
	var cf changeFlags
	var viaQueue bool
	var database, key string
	cmd := &cobra.Command{
		Use:   "run JOB",
		Short: "Run one configured job once, now, in the foreground",
		Long: `Run the job called JOB from the config file once and print its summary.
Failed runs send an error alert; runs that changed something send a change alert
(per the job's alerts: levels). Exit code 1 when the job failed.

An inbox job polls its watched area and processes every upload set that is
new or changed since it was processed; with --key it processes the set
holding that key, processed before or not.

With --via-queue the run is put in the job queue of the database (as the
schedules of ` + "`ghsync serve`" + ` are) instead, for a serve replica to run; the
queued job's id is printed.`,
		Example: "  ghsync run site --config ghsync.yaml --dry-run\n  ghsync run uploads --key E07000223/2026-05-07/1700000000/stations.csv --json\n  ghsync run site --via-queue --database postgres://ghsync@db/ghsync",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return jobs.Usagef("run needs exactly one JOB name; list them with `ghsync jobs`")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, _, err := a.loadScheduledConfig()
			if err != nil {
				return err
			}
			job, ok := cfg.Job(args[0])
			if !ok {
				return jobs.Usagef("no job named %q in %s; list them with `ghsync jobs`", args[0], configName(cfg))
			}
			if viaQueue && cf.takeOver {
				return jobs.Usagef("--take-over and --via-queue cannot be combined; run the take-over here, once")
			}
			if viaQueue {
				return a.enqueue(cmd.Context(), cfg, job.Name, database, cf)
			}
			if key != "" && viaQueue {
				return jobs.Usagef("--key and --via-queue cannot be combined")
			}
			return a.runJob(cmd, cfg, job, cf, false, key)
		},
	}
	cf.add(cmd)
	cf.addTakeOver(cmd)
	cmd.Flags().StringVar(&key, "key", "", "inbox jobs: process the upload set holding this object key (relative to watch), even if processed before")
	cmd.Flags().BoolVar(&viaQueue, "via-queue", false, "put the run in the database's job queue for ghsync serve instead of running it here")
	cmd.Flags().StringVar(&database, "database", "", "with --via-queue: the queue's database URL (default: the config's database:)")
	return cmd
}

// loadScheduledConfig loads the configuration and parses every job's
// schedule; a bad schedule is a configuration error (exit 2) naming the
// file, line and jobs[i].schedule.
func (a *app) loadScheduledConfig() (*config.Config, []schedule.Job, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	scheduled, err := schedule.FromConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, scheduled, nil
}

// enqueue queues one run of job in the database's job queue and prints the
// queued job's id.
func (a *app) enqueue(ctx context.Context, cfg *config.Config, job, database string, cf changeFlags) error {
	if database == "" {
		database = cfg.Database
	}
	d, err := db.Open(ctx, database, a.logger)
	if err != nil {
		return err
	}
	defer d.Close()
	q, err := scheduler.New(ctx, scheduler.Config{DB: d, DatabaseURL: database, Logger: a.logger})
	if err != nil {
		return err
	}
	defer q.Close()
	id, err := q.Enqueue(ctx, job, cf.dryRun)
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(a.env.Stdout, map[string]any{"job": job, "queue_job_id": id, "dry_run": cf.dryRun, "database": d.String()})
	}
	fmt.Fprintf(a.env.Stdout, "queued %s as queue job %d in %s\n", job, id, d.String())
	return nil
}

func configName(cfg *config.Config) string {
	if cfg.File == "" {
		return "the embedded defaults (no config file found)"
	}
	return cfg.File
}

func (a *app) jobsCmd() *cobra.Command {
	var asJSON bool
	var database string
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List the configured jobs with their kind, schedule, next run and last run",
		Long: `List the configured jobs: kind, schedule and its next tick (UTC), source and
destination, and the last run with its outcome from the run history of
` + "`ghsync serve`" + ` when the database has one (else, for repo jobs, the last sync
recorded in the destination's manifest).`,
		Example: `  ghsync jobs                                  # ./ghsync.yaml, history from ./data/ghsync.db if serve ran here
  ghsync jobs --config prod.yaml --database postgres://ghsync@db/ghsync
  ghsync jobs --json | jq '.[] | select(.last_run.outcome == "failed")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, scheduled, err := a.loadScheduledConfig()
			if err != nil {
				return err
			}
			type row struct {
				Name     string         `json:"name"`
				Kind     string         `json:"kind"`
				Schedule string         `json:"schedule,omitempty"`
				NextRun  *time.Time     `json:"next_run,omitempty"`
				Source   string         `json:"source,omitempty"`
				Dest     string         `json:"dest,omitempty"`
				LastRun  *scheduler.Run `json:"last_run,omitempty"`
				Last     *jobs.LastRun  `json:"last,omitempty"`
			}
			next := map[string]time.Time{}
			now := time.Now()
			for _, s := range scheduled {
				if n := s.Schedule.Next(now); !n.IsZero() {
					next[s.Name] = n.UTC()
				}
			}
			history, err := a.lastRuns(cmd.Context(), database, cfg)
			if err != nil {
				return err
			}
			r := a.runner(cfg)
			rows := []row{}
			for _, j := range cfg.Jobs {
				row := row{Name: j.Name, Kind: j.Kind, Schedule: j.Schedule, LastRun: history[j.Name]}
				if n, ok := next[j.Name]; ok {
					row.NextRun = &n
				}
				d := r.Describe(j)
				row.Source, row.Dest = d.Source, d.Dest
				if row.LastRun == nil {
					row.Last = r.Last(cmd.Context(), j)
				}
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
			fmt.Fprintln(tw, "NAME\tKIND\tSCHEDULE\tNEXT RUN\tSOURCE\tDEST\tLAST RUN\tOUTCOME")
			for _, r := range rows {
				nextText := "-"
				if r.NextRun != nil {
					nextText = r.NextRun.Format("2006-01-02 15:04:05Z")
				}
				last, outcome := lastText(r.Last), "-"
				if r.LastRun != nil {
					last, outcome = runText(r.LastRun)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Kind, dash(r.Schedule), nextText, r.Source, r.Dest, last, outcome)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the list as JSON")
	cmd.Flags().StringVar(&database, "database", "", "database holding the run history (default: the config's database:)")
	return cmd
}

// lastRuns reads the latest run of each job from the run history (see
// readDB; never created here). Without a history — no database yet, or one
// without ghsync's run table — it returns nil, unless --database named it.
// A configured database (--database, or the config's database:) that
// cannot be reached or whose URL is malformed is an error.
func (a *app) lastRuns(ctx context.Context, database string, cfg *config.Config) (map[string]*scheduler.Run, error) {
	d, err := a.readDB(ctx, database, cfg, "scheduler")
	switch {
	case err != nil && (database != "" || errors.Is(err, jobs.ErrUsage)):
		return nil, err
	case err != nil && explicitDB("", cfg) && !errors.Is(err, db.ErrNoDatabase):
		return nil, err
	case err != nil:
		a.logger.Debug("no run history", "err", err)
		return nil, nil
	}
	defer d.Close()
	runs, err := scheduler.LastRuns(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("read the run history in %s: %w", d.String(), err)
	}
	return runs, nil
}

// runText renders a history run for the jobs table: when and how long, and
// the outcome (with the error's first line for failures).
func runText(r *scheduler.Run) (string, string) {
	when := r.StartedAt.UTC().Format("2006-01-02 15:04:05Z")
	if d := r.Duration(); d > 0 {
		when += " (" + d.Round(100*time.Millisecond).String() + ")"
	}
	outcome := r.Outcome
	if r.Error != "" && r.Outcome != scheduler.OutcomeOK {
		outcome += ": " + clip(r.Error, tableErrorWidth)
	}
	return when, outcome
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
		return "unknown (" + clip(l.Err, tableErrorWidth) + ")"
	default:
		return jobs.ShortSHA(l.Commit) + " at " + l.At.UTC().Format("2006-01-02 15:04Z") + fmt.Sprintf(" (%d objects)", l.Objects)
	}
}
