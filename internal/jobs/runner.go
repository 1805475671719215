// Package jobs runs configured jobs. Each job kind (repo, statuses, …) is a
// Kind in a Registry: it owns its settings, runs its capability, describes
// itself and says what it needs. Every runtime — `ghsync run` and `jobs`,
// the scheduler and UI of `ghsync serve`, the Lambda handler, `deploy
// template` — goes through a Runner or the Registry, so no runtime knows a
// kind and no capability knows its runtime.
package jobs

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/github"
)

// Runner runs the jobs of one configuration. It is safe for concurrent use;
// set its fields before the first call.
type Runner struct {
	Config *config.Config
	Logger *slog.Logger
	Getenv func(string) string
	// HTTPClient is the base HTTP client for GitHub and alerts (tests); nil = default.
	HTTPClient *http.Client
	// DB is an open database shared with the caller (serve's); nil = the
	// config's database, opened when a job first needs it.
	DB *db.DB
	// Kinds are the job kinds; nil = Builtin().
	Kinds *Registry
	// StateInStores: the runtime's database does not survive (Lambda);
	// see Env.StateInStores.
	StateInStores bool
	// Registerer receives the metrics of kinds that export some (serve's
	// /metrics registry); nil = not exported.
	Registerer prometheus.Registerer
	// GitHubRetryBase is the GitHub client's first pause between attempts
	// (see Env.GitHubRetryBase); zero = the client's default.
	GitHubRetryBase time.Duration

	once sync.Once
	env  *Env
	reg  *Registry
}

// RunOptions are the per-run switches of every verb that changes things.
type RunOptions struct {
	DryRun   bool
	Force    bool   // ignore the max_delete guard
	Verify   bool   // list the store and repair drift
	NoAlerts bool   // ad-hoc runs (`ghsync sync`): no alerts
	Key      string // run on the item holding this key (kinds implementing KeyRunner)
	TakeOver bool   // repo sync: take over a destination another source owns (reposync.OwnerError)
	Progress func(done, total int, bytes int64)
}

// Result is a run's outcome: the capability's summary (JSON-encodable) and
// whether it changed anything.
type Result struct {
	Job     string
	Kind    string
	Summary any
	Changed bool

	text func(io.Writer)
}

// SetText sets how WriteText renders the result for a terminal.
func (r *Result) SetText(f func(io.Writer)) { r.text = f }

// WriteText writes the human form of the result (nothing when the kind has none).
func (r *Result) WriteText(w io.Writer) {
	if r != nil && r.text != nil {
		r.text(w)
	}
}

// ErrorSetter is implemented by summaries that carry the run's error in
// their JSON form.
type ErrorSetter interface {
	SetError(msg string)
}

func (r *Runner) init() {
	r.once.Do(func() {
		r.reg = r.Kinds
		if r.reg == nil {
			r.reg = Builtin()
		}
		r.env = NewEnv(r.Config, r.Logger, r.Getenv, r.HTTPClient, r.DB)
		r.env.StateInStores = r.StateInStores
		r.env.Registerer = r.Registerer
		r.env.GitHubRetryBase = r.GitHubRetryBase
	})
}

// Env returns the shared environment jobs run in.
func (r *Runner) Env() *Env { r.init(); return r.env }

// Registry returns the job kinds.
func (r *Runner) Registry() *Registry { r.init(); return r.reg }

// Run runs the job called name once.
func (r *Runner) Run(ctx context.Context, name string, ro RunOptions) (*Result, error) {
	job, ok := r.Config.Job(name)
	if !ok {
		return nil, Usagef("no job named %q in %s (see `ghsync jobs`)", name, r.configName())
	}
	return r.RunJob(ctx, job, ro)
}

// RunJob runs job (configured, or built by a runtime such as the Lambda's
// legacy status input) once through its kind. The run gets one
// github.RetryBudget (unless ctx carries one) that bounds the GitHub
// retries of all its layers together.
func (r *Runner) RunJob(ctx context.Context, job *config.Job, ro RunOptions) (*Result, error) {
	r.init()
	ctx, _ = github.EnsureRetryBudget(ctx)
	if ro.DryRun {
		ctx = ReadOnly(ctx) // a dry run writes nothing, not even a destination folder
	}
	k, err := r.reg.For(job)
	if err != nil {
		return nil, err
	}
	var res *Result
	if ro.Key != "" {
		kr, ok := k.(KeyRunner)
		if !ok {
			return nil, Usagef("job %q (kind %s) does not take --key", job.Name, job.Kind)
		}
		res, err = kr.RunKey(ctx, r.env, job, ro.Key, ro)
	} else {
		res, err = k.Run(ctx, r.env, job, ro)
	}
	if res != nil {
		res.Job, res.Kind = job.Name, job.Kind
	}
	return res, err
}

// HandleObjects passes the objects of one object-created event to job,
// whose kind must handle such events (see Registry.Watching).
func (r *Runner) HandleObjects(ctx context.Context, job *config.Job, objs []Object, ro RunOptions) (*Result, error) {
	r.init()
	k, err := r.reg.For(job)
	if err != nil {
		return nil, err
	}
	h, ok := k.(ObjectHandler)
	if !ok {
		return nil, Usagef("job %q (kind %s) does not handle object-created events", job.Name, job.Kind)
	}
	ctx, _ = github.EnsureRetryBudget(ctx) // one budget per event, as per run
	if ro.DryRun {
		ctx = ReadOnly(ctx)
	}
	res, err := h.HandleObjects(ctx, r.env, job, objs, ro)
	if res != nil {
		res.Job, res.Kind = job.Name, job.Kind
	}
	return res, err
}

// Describe describes job through its kind.
func (r *Runner) Describe(job *config.Job) Description { return r.Registry().Describe(job) }

// LastRun is what is known about a job's last successful run without the
// run history.
type LastRun struct {
	Commit  string    `json:"commit,omitempty"`
	At      time.Time `json:"at,omitempty"`
	Objects int       `json:"objects"`
	Err     string    `json:"error,omitempty"` // why it could not be read
}

// Last returns what job's kind knows of its last successful run (nil when
// the kind cannot tell or the job never ran).
func (r *Runner) Last(ctx context.Context, job *config.Job) *LastRun {
	r.init()
	k, ok := r.reg.Kind(job.Kind)
	if !ok {
		return nil
	}
	lr, ok := k.(LastReader)
	if !ok {
		return nil
	}
	return lr.Last(ReadOnly(ctx), r.env, job) // looking writes nothing
}

// GitHub returns the shared GitHub client (see Env.GitHub).
func (r *Runner) GitHub(ctx context.Context) (*github.Client, error) { return r.Env().GitHub(ctx) }

// Close releases what the Runner's Env opened.
func (r *Runner) Close() error {
	if r.env == nil {
		return nil
	}
	return r.env.Close()
}

func (r *Runner) configName() string {
	if r.Config.File == "" {
		return "the embedded defaults"
	}
	return r.Config.File
}
