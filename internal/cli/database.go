package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/scheduler"
)

// readDB opens what `ghsync serve` stored, for verbs that only read it:
// the --database flag's URL, else the config's database:. It never creates
// a database (db.OpenReadOnly). A malformed URL is a usage error (exit 2);
// a database that is missing, empty or unreachable is an error (exit 1)
// naming it ("no ghsync database at … (run `ghsync serve` first)").
func (a *app) readDB(ctx context.Context, flag string, cfg *config.Config, component string) (*db.DB, error) {
	url := cfg.Database
	if flag != "" {
		url = flag
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d, err := db.OpenReadOnly(ctx, url, component, a.logger)
	if errors.Is(err, db.ErrBadURL) {
		return nil, jobs.Usage(err)
	}
	return d, err
}

// explicitDB reports whether the user named a database (--database, or a
// database: in the config file other than the default) rather than relying
// on the default SQLite file.
func explicitDB(flag string, cfg *config.Config) bool {
	return flag != "" || cfg.Database != config.DefaultDatabase
}

// recordRun adds a foreground run of job to the run history, so `ghsync
// jobs` and the UI show it like a scheduled run: when the config names a
// database (a dry run: and it exists), or the default SQLite database
// already exists (`ghsync serve` ran here). A run history that cannot be
// written is logged as a warning; the run's own outcome stands.
func (a *app) recordRun(ctx context.Context, cfg *config.Config, job string, dryRun bool, started time.Time, res *jobs.Result, runErr error) {
	sqlite := strings.HasPrefix(cfg.Database, "sqlite://")
	if !explicitDB("", cfg) || (dryRun && sqlite) {
		// A dry run creates no database either: it is recorded only in a
		// SQLite file that exists.
		path, _, _ := strings.Cut(strings.TrimPrefix(cfg.Database, "sqlite://"), "?")
		if _, err := os.Stat(path); err != nil {
			return
		}
	}
	host, _ := os.Hostname()
	r := &scheduler.Run{Job: job, Attempt: 1, DryRun: dryRun, ScheduledAt: started, StartedAt: started,
		FinishedAt: time.Now(), Outcome: scheduler.OutcomeOK, Replica: fmt.Sprintf("cli:%s-%d", host, os.Getpid())}
	if runErr != nil {
		r.Outcome, r.Error = scheduler.OutcomeFailed, userMessage(runErr)
	}
	if res != nil && res.Summary != nil {
		r.Summary, _ = json.Marshal(res.Summary)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	d, err := db.Open(ctx, cfg.Database, a.logger)
	if err == nil {
		defer d.Close()
		err = scheduler.RecordRun(ctx, d, r)
	}
	if err != nil {
		a.logger.Warn("the run is not in the run history", "job", job, "err", err)
	}
}
