package jobs

import (
	"context"
	"time"

	"github.com/ghsync/ghsync/internal/config"
)

// Kind is one kind of job (repo, statuses, …). A kind owns everything about
// its jobs: the settings schema with its defaults and rules
// (config.KindSchema), how a job runs, how it describes itself and what it
// needs from the platform. No runtime looks inside a job's settings; each
// goes through its kind. Register a kind in Builtin.
type Kind interface {
	config.KindSchema
	// Name is the value of `kind:` that selects this kind.
	Name() string
	// Run runs job once and sends the alerts it asks for through
	// env.Alert (unless ro.DryRun or ro.NoAlerts). A run that fails part-way
	// returns both its Result (what was done) and the error. Errors caused
	// by the job's settings or input wrap ErrUsage (see Usagef).
	Run(ctx context.Context, env *Env, job *config.Job, ro RunOptions) (*Result, error)
	// Describe says what job reads and writes, for `ghsync jobs` and the UI.
	Describe(job *config.Job) Description
	// Needs lists what job uses from the platform, for the deploy template
	// (IAM, triggers) and for runtimes that open shared clients up front.
	Needs(job *config.Job) Needs
}

// Description is how a job presents itself to users.
type Description struct {
	// Source is what the job reads (e.g. "github:acme/site@main"), redacted.
	Source string
	// Dest is where the job writes (a store URL or database), redacted.
	Dest string
	// Settings are label/value rows in display order ("mode", "files").
	Settings []Setting
	// Snapshots is the store URL of status snapshots the job writes, which
	// the HUD can show ("" for jobs that write none).
	Snapshots string
}

// Setting is one row of a job's description.
type Setting struct {
	Label, Value string
}

// Access levels of a StoreUse.
const (
	AccessRead      = "read"
	AccessReadWrite = "read-write"
)

// Needs is what a job uses from the platform.
type Needs struct {
	// Stores are the store URLs (with their prefixes) the job reads or writes.
	Stores []StoreUse
	// Secrets are the job's own secret references (beyond the config's
	// github and alerts sections), for the deploy template's IAM.
	Secrets []config.Secret
	// Database is true when the job reads or writes the config's database.
	Database bool
	// AWSActions are IAM actions the job calls beyond its stores (e.g.
	// "ses:SendEmail"), granted by the deploy template.
	AWSActions []string
	// CloudFront are the CloudFront distribution ids the job invalidates
	// (cloudfront:CreateInvalidation on each, granted by the deploy template).
	CloudFront []string
}

// StoreUse is one store URL a job uses.
type StoreUse struct {
	// URL is the store URL with its prefix (s3://bucket/prefix/?region=…).
	URL string
	// Access is AccessRead or AccessReadWrite.
	Access string
	// Watch marks an upload area whose object-created events trigger the
	// job (its kind implements ObjectHandler).
	Watch bool
	// Manages marks a prefix the job owns: it records what it wrote under
	// URL (repo sync's manifest) and deletes what left its source, so no
	// other managing job's store may be the same prefix or overlap it
	// (checked at load, see Registry.Load).
	Manages bool
	// DeletesUnknown marks a managed prefix under which the job also
	// deletes objects it did not write (repo sync's delete: all), so no
	// other job's store at all may overlap it.
	DeletesUnknown bool
	// Key is the settings key that holds URL ("dest"), so that problems
	// point at it; "" points at the job.
	Key string
}

// Object is one object named by an object-created event.
type Object struct {
	// Bucket is the bucket (or container) name.
	Bucket string
	// Key is the object's key, unescaped.
	Key string
	// Size is the object's size in bytes when the event says (else 0).
	Size int64
	// ETag is the object's ETag when the event says (else "").
	ETag string
}

// ObjectHandler is implemented by kinds whose jobs react to object-created
// events in the stores their Needs mark Watch (e.g. an inbox). Runtimes
// route each event's objects to the jobs watching them (Registry.Watching)
// and call HandleObjects once per job and event with all of its objects.
type ObjectHandler interface {
	HandleObjects(ctx context.Context, env *Env, job *config.Job, objs []Object, ro RunOptions) (*Result, error)
}

// LastReader is implemented by kinds that can tell a job's last successful
// run without the run history (e.g. from a manifest in the destination).
type LastReader interface {
	Last(ctx context.Context, env *Env, job *config.Job) *LastRun
}

// KeyRunner is implemented by kinds that can run on one item named by a
// key (`ghsync run JOB --key KEY`, e.g. an inbox's upload set).
type KeyRunner interface {
	RunKey(ctx context.Context, env *Env, job *config.Job, key string, ro RunOptions) (*Result, error)
}

// Poller is implemented by kinds whose jobs watch a store: serve runs such
// a job without a schedule of its own this often.
type Poller interface {
	PollEvery(job *config.Job) time.Duration
}

// EnvJobs is implemented by kinds that the original systems' environment
// variables alone can define (drop-in mode): when no configuration file is
// found, Registry.Load adds the jobs they return.
type EnvJobs interface {
	JobsFromEnv(getenv func(string) string) ([]*config.Job, error)
}
