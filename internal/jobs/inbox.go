package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/inbox"
	"github.com/ghsync/ghsync/internal/notify"
	"github.com/ghsync/ghsync/internal/store"
)

// KindInbox is the name of the inbox kind: uploaded files checked, reported,
// promoted, raised as GitHub issues, emailed and called back.
const KindInbox = "inbox"

// inboxKind runs the inbox pipeline (internal/inbox). A run without a key
// polls the watched area; RunKey processes the set holding one key;
// HandleObjects processes the sets an object-created event names.
type inboxKind struct{}

func (inboxKind) Name() string     { return KindInbox }
func (inboxKind) NewSettings() any { return &inbox.Config{} }

// InboxOf returns the settings of an inbox job (nil for other kinds).
func InboxOf(job *config.Job) *inbox.Config {
	s, _ := job.Settings.(*inbox.Config)
	return s
}

func (inboxKind) Check(v any, c *config.Checker) {
	s := v.(*inbox.Config)
	if s.Watch != "" {
		c.Dest("watch", &s.Watch)
	}
	if s.Final != "" {
		c.Dest("final", &s.Final)
	}
	for _, e := range s.Validate() {
		c.Errorf(e.Field, "%s", e.Msg)
	}
}

func (inboxKind) Describe(job *config.Job) Description {
	s := InboxOf(job)
	d := Description{Source: store.Redact(s.Watch), Dest: store.Redact(s.Final)}
	d.Settings = []Setting{{"watch", d.Source}, {"final", d.Dest}, {"key pattern", s.KeyPattern}, {"format", s.Format}}
	if s.Checks != nil {
		d.Settings = append(d.Settings, Setting{"checks", strconv.Itoa(len(s.Checks))})
	}
	var actions string
	for name, on := range map[string]bool{"github issue": s.GitHub != nil, "email": s.Email != nil, "callback": s.Callback != nil, "enrich": s.Enrich != nil} {
		if on {
			actions += name + " "
		}
	}
	d.Settings = append(d.Settings, Setting{"actions", actions}, Setting{"poll", s.PollInterval().String()},
		Setting{"max attempts", strconv.Itoa(s.Attempts())})
	return d
}

func (inboxKind) Needs(job *config.Job) Needs {
	s := InboxOf(job)
	n := Needs{Database: true, Stores: []StoreUse{{URL: s.Watch, Access: AccessReadWrite, Watch: true, Key: "watch"}}}
	if s.Final != "" {
		n.Stores = append(n.Stores, StoreUse{URL: s.Final, Access: AccessReadWrite, Key: "final"})
	}
	if s.Email != nil && strings.HasPrefix(s.Email.Via, "ses://") {
		n.AWSActions = append(n.AWSActions, "ses:SendEmail")
	}
	return n
}

// PollEvery implements Poller: serve polls the watched area this often.
func (inboxKind) PollEvery(job *config.Job) time.Duration { return InboxOf(job).PollInterval() }

// Run polls the watched area and processes every set that is new or changed.
func (k inboxKind) Run(ctx context.Context, env *Env, job *config.Job, ro RunOptions) (*Result, error) {
	deps, cfg, err := inboxDeps(ctx, env, job, ro.DryRun)
	if err != nil {
		return nil, err
	}
	pr, err := inbox.Poll(ctx, deps, cfg, inbox.RunOptions{DryRun: ro.DryRun, SkipUnchanged: true})
	res := &Result{}
	if pr != nil {
		res.Summary = pr
		res.Changed = len(pr.Processed) > 0
		res.SetText(func(w io.Writer) {
			for _, r := range pr.Processed {
				_ = inbox.WriteResult(w, r)
			}
			fmt.Fprintf(w, "%s: %d sets, %d processed, %d unchanged, %d objects ignored\n", job.Name, pr.Sets, len(pr.Processed), pr.Unchanged, pr.Ignored)
			if pr.Busy > 0 {
				fmt.Fprintf(w, "%s: %d set(s) being processed by another run (nothing done here): %s\n",
					job.Name, pr.Busy, strings.Join(pr.BusySets, ", "))
			}
			if pr.GaveUp > 0 {
				fmt.Fprintf(w, "%s: %d unchanged set(s) with failed actions given up on after %d attempts (run --key to retry): %s\n",
					job.Name, pr.GaveUp, cfg.Attempts(), strings.Join(pr.GaveUpSets, ", "))
			}
		})
	}
	n := 0
	if pr != nil {
		n = len(pr.Processed)
	}
	inboxAlerts(ctx, env, job, ro, err, n)
	return res, err
}

// RunKey processes the upload set holding key (relative to the watched
// area, or a full key under it), whether or not it was processed before.
func (inboxKind) RunKey(ctx context.Context, env *Env, job *config.Job, key string, ro RunOptions) (*Result, error) {
	deps, cfg, err := inboxDeps(ctx, env, job, ro.DryRun)
	if err != nil {
		return nil, err
	}
	r, err := inbox.ProcessSet(ctx, deps, cfg, key, inbox.RunOptions{DryRun: ro.DryRun})
	res := &Result{}
	if r != nil {
		res.Summary, res.Changed = r, !r.Skipped && !r.Busy
		res.SetText(func(w io.Writer) { _ = inbox.WriteResult(w, r) })
	}
	inboxAlerts(ctx, env, job, ro, err, 1)
	return res, err
}

// HandleObjects processes the sets holding the event's objects, each set
// once, skipping sets already processed with the same keys and ETags.
func (inboxKind) HandleObjects(ctx context.Context, env *Env, job *config.Job, objs []Object, ro RunOptions) (*Result, error) {
	deps, cfg, err := inboxDeps(ctx, env, job, ro.DryRun)
	if err != nil {
		return nil, err
	}
	evs := make([]inbox.EventObject, len(objs))
	for i, o := range objs {
		evs[i] = inbox.EventObject{Bucket: o.Bucket, Key: o.Key}
	}
	er, err := inbox.ProcessEvent(ctx, deps, cfg, evs, inbox.RunOptions{DryRun: ro.DryRun, SkipUnchanged: true})
	res := &Result{}
	n := 0
	if er != nil {
		res.Summary = er
		for _, r := range er.Results {
			if !r.Skipped && !r.Busy { // busy: another run acts on it
				n++
			}
		}
		res.Changed = n > 0
		res.SetText(func(w io.Writer) {
			for _, r := range er.Results {
				_ = inbox.WriteResult(w, r)
			}
		})
	}
	inboxAlerts(ctx, env, job, ro, err, n)
	return res, err
}

// inboxAlerts sends an error alert when a set or action failed, a change
// alert when sets were processed.
func inboxAlerts(ctx context.Context, env *Env, job *config.Job, ro RunOptions, err error, processed int) {
	if ro.DryRun || ro.NoAlerts {
		return
	}
	switch {
	case err != nil:
		env.Alert(ctx, job, notify.Alert{Level: notify.LevelError, Title: "inbox failed", Text: err.Error()})
	case processed > 0:
		env.Alert(ctx, job, notify.Alert{Level: notify.LevelChange, Title: "inbox processed uploads",
			Text: fmt.Sprintf("%d upload set(s) processed", processed)})
	}
}

// inboxDeps builds the pipeline's clients from the Env: stores, the GitHub
// client when the config has credentials, the processed-sets ledger (the
// database, or the final store where the runtime's database does not
// survive, as on Lambda). A dry run creates no database: when the
// configured SQLite file does not exist yet it runs without a ledger (no
// set was recorded, so every set shows as new).
func inboxDeps(ctx context.Context, env *Env, job *config.Job, dryRun bool) (inbox.Deps, *inbox.Config, error) {
	s := *InboxOf(job)
	s.Name = job.Name
	deps := inbox.Deps{
		OpenStore: func(ctx context.Context, url string) (*store.Bucket, error) {
			return env.OpenStore(ctx, url, store.Options{})
		},
		GitHubBaseURL: env.GitHubAPIURL(),
		HTTP:          env.HTTPClient,
		Logger:        env.Logger,
		Getenv:        env.Getenv,
	}
	if env.Config.GitHub.AuthKind() != config.AuthNone || env.Getenv("GITHUB_TOKEN") != "" || env.Getenv("GITHUB_APP_ID") != "" {
		gh, err := env.GitHub(ctx)
		if err != nil {
			return deps, nil, err
		}
		deps.GitHub = gh
	}
	if env.StateInStores {
		if s.Final == "" {
			return deps, nil, Usagef("inbox %s: this runtime keeps no database, so processed sets are recorded in the final store; set final", job.Name)
		}
		b, err := env.OpenStore(ctx, s.Final, store.Options{})
		if err != nil {
			return deps, nil, err
		}
		deps.Ledger = inbox.StoreLedger{Bucket: b, Logger: env.Logger} // closed with the process (Lambda)
		return deps, &s, nil
	}
	if dryRun && sqliteMissing(env.Config.Database) {
		return deps, &s, nil
	}
	d, err := env.DB(ctx)
	if err != nil {
		return deps, nil, err
	}
	// Migrated once per database; a failure (cancelled run, transient
	// database error) is not remembered, so the next run migrates again.
	if _, err := env.SharedErr("inbox.migrated:"+d.String(), func() (any, error) {
		return true, inbox.Migrate(ctx, d)
	}); err != nil {
		return deps, nil, fmt.Errorf("inbox ledger: %w", err)
	}
	deps.Ledger = inbox.DBLedger{DB: d}
	return deps, &s, nil
}

// sqliteMissing reports whether url is a SQLite database whose file does
// not exist yet (opening it would create it).
func sqliteMissing(url string) bool {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok || (scheme != "sqlite" && scheme != "sqlite3") {
		return false
	}
	path, _, _ := strings.Cut(rest, "?")
	if path == ":memory:" {
		return false
	}
	_, err := os.Stat(path)
	return errors.Is(err, os.ErrNotExist)
}

// JobsFromEnv implements EnvJobs: the original inbox Lambda's environment
// (TEMP_BUCKET_NAME, FINAL_BUCKET_NAME, GITHUB_REPO, …) alone defines the
// job named inbox.
func (inboxKind) JobsFromEnv(getenv func(string) string) ([]*config.Job, error) {
	if !inbox.HasLegacyEnv(getenv) {
		return nil, nil
	}
	cfg, err := inbox.ConfigFromLegacyEnv(getenv)
	if err != nil {
		return nil, Usage(err)
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, Usagef("inbox from the original's environment: %v", errs[0])
	}
	return []*config.Job{{Name: inbox.LegacyJobName, Kind: KindInbox, Settings: cfg,
		Alerts: []config.Level{config.LevelError, config.LevelChange}}}, nil
}
