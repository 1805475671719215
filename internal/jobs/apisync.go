package jobs

import (
	"context"
	"fmt"
	"io"

	"github.com/ghsync/ghsync/internal/apisync"
	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/notify"
)

// Names of the API table sync kinds: an Airtable table, and a Badgr
// issuer's badge classes and assertions, copied into SQL tables.
const (
	KindAirtable = "airtable"
	KindBadgr    = "badgr"
)

// airtableKind copies one Airtable table into a SQL table (internal/apisync).
type airtableKind struct{}

func (airtableKind) Name() string     { return KindAirtable }
func (airtableKind) NewSettings() any { return &apisync.AirtableConfig{} }

func (airtableKind) Check(v any, c *config.Checker) {
	checkAPIDatabase(c, &v.(*apisync.AirtableConfig).Database)
	reportFieldErrors(c, v.(*apisync.AirtableConfig).Validate())
}

func (airtableKind) Describe(job *config.Job) Description {
	a := job.Settings.(*apisync.AirtableConfig)
	src := fmt.Sprintf("airtable:%s/%s", a.Base, a.Table)
	dest := apiDest(job, a.Database, a.Target)
	s := []Setting{{"source", src}, {"dest", dest}, {"delete missing", fmt.Sprint(a.DeleteMissing)}}
	if a.View != "" {
		s = append(s, Setting{"view", a.View})
	}
	if a.Filter != "" {
		s = append(s, Setting{"filter", a.Filter})
	}
	return Description{Source: src, Dest: dest, Settings: s}
}

func (airtableKind) Needs(*config.Job) Needs { return Needs{Database: true} }

func (airtableKind) Run(ctx context.Context, env *Env, job *config.Job, ro RunOptions) (*Result, error) {
	a := job.Settings.(*apisync.AirtableConfig)
	return runAPISync(ctx, env, job, ro, a.Database, func(deps apisync.Deps) (*apisync.Summary, error) {
		return apisync.SyncAirtable(ctx, deps, *a, apisync.RunOptions{DryRun: ro.DryRun})
	})
}

// badgrKind copies a Badgr issuer's badge classes and assertions into SQL
// tables (internal/apisync).
type badgrKind struct{}

func (badgrKind) Name() string     { return KindBadgr }
func (badgrKind) NewSettings() any { return &apisync.BadgrConfig{} }

func (badgrKind) Check(v any, c *config.Checker) {
	checkAPIDatabase(c, &v.(*apisync.BadgrConfig).Database)
	reportFieldErrors(c, v.(*apisync.BadgrConfig).Validate())
}

func (badgrKind) Describe(job *config.Job) Description {
	b := job.Settings.(*apisync.BadgrConfig)
	src := fmt.Sprintf("badgr:%s issuer %s", b.APIURL, b.Issuer)
	dest := apiDest(job, b.Database, "")
	return Description{Source: src, Dest: dest, Settings: []Setting{{"source", src}, {"dest", dest},
		{"tables", b.Tables.Badges + ", " + b.Tables.Assertions}, {"delete missing", fmt.Sprint(b.DeleteMissing)}}}
}

func (badgrKind) Needs(*config.Job) Needs { return Needs{Database: true} }

func (badgrKind) Run(ctx context.Context, env *Env, job *config.Job, ro RunOptions) (*Result, error) {
	b := job.Settings.(*apisync.BadgrConfig)
	return runAPISync(ctx, env, job, ro, b.Database, func(deps apisync.Deps) (*apisync.Summary, error) {
		return apisync.SyncBadgr(ctx, deps, *b, apisync.RunOptions{DryRun: ro.DryRun})
	})
}

// runAPISync opens the target database (the job's, else the config's),
// runs sync with the process's shared Airtable rate limiters, and sends an
// error alert on failure and a change alert when rows changed.
func runAPISync(ctx context.Context, env *Env, job *config.Job, ro RunOptions, database string,
	sync func(apisync.Deps) (*apisync.Summary, error)) (*Result, error) {
	d, err := env.OpenDB(ctx, database)
	if err != nil {
		return nil, fmt.Errorf("target database: %w", err)
	}
	limiters := env.Shared("apisync.limiters", func() any { return apisync.NewRateLimiters(apisync.DefaultAirtableRate) }).(*apisync.RateLimiters)
	sum, err := sync(apisync.Deps{HTTP: env.HTTPClient, DB: d, Limiters: limiters, Logger: env.Logger.With("job", job.Name)})
	res := &Result{}
	if sum != nil {
		res.Summary, res.Changed = sum, sum.Changes() > 0
		res.SetText(func(w io.Writer) { fmt.Fprintln(w, sum.Text()) })
	}
	if ro.DryRun || ro.NoAlerts {
		return res, err
	}
	switch {
	case err != nil:
		env.Alert(ctx, job, notify.Alert{Level: notify.LevelError, Title: job.Kind + " sync failed", Text: err.Error()})
	case res.Changed:
		env.Alert(ctx, job, notify.Alert{Level: notify.LevelChange, Title: job.Kind + " sync changed rows", Text: sum.Text(),
			Details: map[string]any{"summary": sum}})
	}
	return res, err
}

// checkAPIDatabase checks an optional target database URL and resolves
// a relative sqlite:// path against the config file's folder.
func checkAPIDatabase(c *config.Checker, url *string) {
	if *url != "" {
		c.Database("database", url)
	}
}

// reportFieldErrors reports a capability's validation problems at their keys.
func reportFieldErrors(c *config.Checker, errs []apisync.FieldError) {
	for _, e := range errs {
		c.Errorf(e.Field, "%s", e.Msg)
	}
}

// apiDest describes a target database and table without credentials.
func apiDest(job *config.Job, database, table string) string {
	if database == "" {
		database = "the config's database"
	} else {
		database = db.Redact(database)
	}
	if table == "" {
		return database
	}
	return database + " table " + table
}
