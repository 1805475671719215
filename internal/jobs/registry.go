package jobs

import (
	"fmt"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/store"
)

// Builtin returns a registry of every job kind this build knows. Adding a
// kind is one line here (see ARCHITECTURE.md, "Adding a job kind").
func Builtin() *Registry {
	r := &Registry{}
	r.Register(repoKind{})
	r.Register(statusesKind{})
	r.Register(airtableKind{})
	r.Register(badgrKind{})
	r.Register(inboxKind{})
	r.Register(redeliverKind{})
	r.Register(reconcileKind{})
	return r
}

// Registry is a set of job kinds by name. It implements config.Kinds. The
// zero value is empty; a Registry is not modified after set-up, so it is
// safe for concurrent reads.
type Registry struct {
	kinds  []Kind
	byName map[string]Kind
}

// Register adds k; it panics if a kind of the same name is registered (a
// programming error, found by every test).
func (r *Registry) Register(k Kind) {
	if r.byName == nil {
		r.byName = map[string]Kind{}
	}
	if _, dup := r.byName[k.Name()]; dup {
		panic(fmt.Sprintf("jobs: kind %q registered twice", k.Name()))
	}
	r.byName[k.Name()] = k
	r.kinds = append(r.kinds, k)
}

// Kind returns the kind called name.
func (r *Registry) Kind(name string) (Kind, bool) {
	k, ok := r.byName[name]
	return k, ok
}

// Schema implements config.Kinds.
func (r *Registry) Schema(name string) (config.KindSchema, bool) {
	k, ok := r.byName[name]
	return k, ok
}

// Names implements config.Kinds: the kinds in registration order.
func (r *Registry) Names() []string {
	out := make([]string, len(r.kinds))
	for i, k := range r.kinds {
		out[i] = k.Name()
	}
	return out
}

// For returns the kind of job. Jobs of a loaded configuration always have
// one; the error covers jobs built by hand.
func (r *Registry) For(job *config.Job) (Kind, error) {
	k, ok := r.byName[job.Kind]
	if !ok {
		return nil, Usagef("job %q has kind %q, which this build does not know (known: %v)", job.Name, job.Kind, r.Names())
	}
	return k, nil
}

// Describe describes job through its kind (an empty Description for an
// unknown kind).
func (r *Registry) Describe(job *config.Job) Description {
	if k, ok := r.byName[job.Kind]; ok {
		return k.Describe(job)
	}
	return Description{}
}

// Needs returns what job needs through its kind.
func (r *Registry) Needs(job *config.Job) Needs {
	if k, ok := r.byName[job.Kind]; ok {
		return k.Needs(job)
	}
	return Needs{}
}

// Load reads the configuration (see config.Load) with this registry's kinds
// and refuses jobs whose destinations overlap (checkAreas).
// When no configuration file is found (the embedded defaults), kinds that
// the original systems' environment variables can define (EnvJobs) add
// their jobs.
func (r *Registry) Load(path string, getenv func(string) string) (*config.Config, error) {
	cfg, err := config.Load(path, getenv, r)
	if err != nil {
		return nil, err
	}
	if cfg.File != "" {
		if err := r.checkAreas(cfg); err != nil {
			return nil, err
		}
		return cfg, nil
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	for _, k := range r.kinds {
		ej, ok := k.(EnvJobs)
		if !ok {
			continue
		}
		js, err := ej.JobsFromEnv(getenv)
		if err != nil {
			return nil, err
		}
		for _, j := range js {
			if _, dup := cfg.Job(j.Name); !dup {
				cfg.Jobs = append(cfg.Jobs, j)
			}
		}
	}
	if err := r.checkAreas(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Polled lists the jobs without a schedule whose kind polls a store
// (Poller), with their intervals, in job order.
func (r *Registry) Polled(cfg *config.Config) []PolledJob {
	var out []PolledJob
	for _, j := range cfg.Jobs {
		if j.Schedule != "" {
			continue
		}
		if p, ok := r.byName[j.Kind].(Poller); ok {
			out = append(out, PolledJob{Job: j, Every: p.PollEvery(j)})
		}
	}
	return out
}

// PolledJob is a job serve runs every Every.
type PolledJob struct {
	Job   *config.Job
	Every time.Duration
}

// Parse decodes a configuration (see config.Parse) with this registry's
// kinds and refuses jobs whose destinations overlap (checkAreas).
func (r *Registry) Parse(data []byte, filename string, getenv func(string) string) (*config.Config, error) {
	cfg, err := config.Parse(data, filename, getenv, r)
	if err != nil {
		return nil, err
	}
	if err := r.checkAreas(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// LoadConfig is Builtin().Load.
func LoadConfig(path string, getenv func(string) string) (*config.Config, error) {
	return Builtin().Load(path, getenv)
}

// ParseConfig is Builtin().Parse.
func ParseConfig(data []byte, filename string, getenv func(string) string) (*config.Config, error) {
	return Builtin().Parse(data, filename, getenv)
}

// Watch is an upload area in S3 that a job watches for object-created
// events.
type Watch struct {
	// Job is the watching job.
	Job *config.Job
	// URL is the watched store URL as configured.
	URL string
	// Bucket and Prefix locate the area ("" prefix = the whole bucket).
	Bucket, Prefix string
}

// Watches lists the S3 upload areas watched by cfg's jobs whose kind
// handles object-created events, in job order.
func (r *Registry) Watches(cfg *config.Config) []Watch {
	var out []Watch
	for _, j := range cfg.Jobs {
		k, ok := r.byName[j.Kind]
		if !ok {
			continue
		}
		if _, ok := k.(ObjectHandler); !ok {
			continue
		}
		for _, s := range k.Needs(j).Stores {
			if !s.Watch {
				continue
			}
			if b, p, ok := store.BucketOf(s.URL); ok {
				out = append(out, Watch{Job: j, URL: s.URL, Bucket: b, Prefix: p})
			}
		}
	}
	return out
}

// Watching returns the jobs watching the object bucket/key, each once.
func (r *Registry) Watching(cfg *config.Config, bucket, key string) []*config.Job {
	var out []*config.Job
	seen := map[*config.Job]bool{}
	for _, w := range r.Watches(cfg) {
		if w.Bucket == bucket && strings.HasPrefix(key, w.Prefix) && !seen[w.Job] {
			seen[w.Job] = true
			out = append(out, w.Job)
		}
	}
	return out
}
