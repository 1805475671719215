package apisync

import (
	"context"
	"errors"
	"github.com/ghsync/ghsync/internal/ctxtime"
	"log/slog"
	"net/http"
	"time"

	"github.com/ghsync/ghsync/internal/db"
)

// Deps are a run's collaborators, created by the caller. Only DB is required;
// Limiters should be the process's one shared instance.
type Deps struct {
	// HTTP sends API requests; default http.DefaultClient.
	HTTP *http.Client
	// DB is the target database (sqlite, postgres or mysql).
	DB *db.DB
	// Limiters paces Airtable requests per base; shared by every job of the
	// process. Default: a private NewRateLimiters(DefaultAirtableRate), which
	// paces this run only.
	Limiters *RateLimiters
	// Logger receives progress at Info and details at Debug; never a secret.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Sleep waits (429 penalties, retry back-off); default a timer honouring ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

// RunOptions are per-run switches.
type RunOptions struct {
	// DryRun fetches and plans but writes nothing: no table is created, no
	// column added, no row written or deleted. The summary reports what would
	// change.
	DryRun bool
}

func (d Deps) withDefaults() (Deps, error) {
	if d.DB == nil {
		return d, errors.New("apisync: Deps.DB is nil")
	}
	if d.HTTP == nil {
		d.HTTP = http.DefaultClient
	}
	if d.Limiters == nil {
		d.Limiters = NewRateLimiters(DefaultAirtableRate)
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Sleep == nil {
		d.Sleep = ctxtime.Sleep
	}
	return d, nil
}
