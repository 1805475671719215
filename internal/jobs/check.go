package jobs

import (
	"context"
	"time"

	"github.com/ghsync/ghsync/internal/config"
)

// Check is the outcome of one thing `ghsync check` verified about a job
// without running it: a credential found, a store reachable and writable,
// the database answering.
type Check struct {
	// Job is the job's name.
	Job string `json:"job"`
	// Name says what was checked ("github", "store dest", "database",
	// "smtp", …), stable for scripts.
	Name string `json:"check"`
	// OK is true when the check passed.
	OK bool `json:"ok"`
	// Detail says what was found (which credential and from where, the
	// remaining rate limit) or, when not OK, what is wrong.
	Detail string `json:"detail"`
	// Fix says what to set when not OK ("" when OK).
	Fix string `json:"fix,omitempty"`
}

// CheckOptions tune the checks.
type CheckOptions struct {
	// CreateBucket creates a missing bucket or container, where the
	// store's scheme can (s3, gs, azblob), instead of reporting it.
	CreateBucket bool
}

// Preflighter is implemented by kinds that declare checks of their own
// beyond what their Needs imply (stores and the database are checked for
// every kind by Registry.Checks): the GitHub access to the repository a
// job reads, a sign-in to a third-party API, the SMTP server an inbox
// mails through. Preflight must change nothing outside the removed probe
// objects Registry.Checks writes: no run, no issue, no email, no database
// created.
type Preflighter interface {
	Preflight(ctx context.Context, env *Env, job *config.Job, o CheckOptions) []Check
}

// checkTimeout bounds each network check, so that an unreachable service
// is reported rather than waited on.
const checkTimeout = 15 * time.Second

// Checks verifies, without running it, that job can run: the kind's own
// checks (Preflighter), then every store its Needs list (reachable, the
// bucket existing, writable by a probe object that is removed at once) and
// the database when it needs one (reachable, migrated). Every check gives
// one Check, in that order.
func (r *Registry) Checks(ctx context.Context, env *Env, job *config.Job, o CheckOptions) []Check {
	k, err := r.For(job)
	if err != nil {
		return []Check{{Job: job.Name, Name: "kind", Detail: err.Error(), Fix: "set kind: to one of the known kinds"}}
	}
	var out []Check
	if p, ok := k.(Preflighter); ok {
		out = append(out, p.Preflight(ctx, env, job, o)...)
	}
	n := k.Needs(job)
	for _, s := range n.Stores {
		out = append(out, checkStore(ctx, env, job, s, o))
	}
	if n.Database {
		out = append(out, checkDatabase(ctx, env, job, "database", env.Config.Database, true))
	}
	for i := range out {
		out[i].Job = job.Name
	}
	return out
}

// checkOK and checkFail build Checks.
func checkOK(name, detail string) Check { return Check{Name: name, OK: true, Detail: detail} }

func checkFail(name, detail, fix string) Check { return Check{Name: name, Detail: detail, Fix: fix} }
