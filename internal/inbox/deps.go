package inbox

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/store"
)

// Deps are the shared clients a runtime passes in. Every field is optional.
type Deps struct {
	// OpenStore opens a store URL; nil means store.Open with Logger.
	OpenStore func(ctx context.Context, url string) (*store.Bucket, error)
	// GitHub is the configuration's GitHub client, used when github.token
	// is empty. Nil or anonymous: the GitHub action is logged, not performed.
	GitHub *github.Client
	// GitHubBaseURL is the API root for a client built from github.token
	// ("" = https://api.github.com/).
	GitHubBaseURL string
	// Ledger records processed sets; nil: nothing is remembered (every
	// event and poll processes its sets).
	Ledger Ledger
	// HTTP is used for the callback, enrichment, SES and Sentry; nil means
	// a client with a 30 s timeout.
	HTTP *http.Client
	// SMTPTLS, when set, is the TLS configuration for SMTP (tests: the
	// local server's CA).
	SMTPTLS *tls.Config
	// Logger receives the run's log lines; nil discards.
	Logger *slog.Logger
	// Getenv reads the environment (AWS settings for SES); nil means os.Getenv.
	Getenv func(string) string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// RetryBase is the first callback retry wait (default 1 s).
	RetryBase time.Duration
	// ClaimLease is how long a claim on a set lasts unrenewed (default
	// DefaultClaimLease); the run holding it renews it every ClaimLease/3.
	// A run that crashed leaves its set to be taken up again after it.
	ClaimLease time.Duration
	// ClaimWait bounds how long an event's run waits for another run that
	// holds the set to process other content of it (default
	// DefaultClaimWait); then the event fails, to be delivered again.
	ClaimWait time.Duration
}

func (d *Deps) fill() {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if d.Getenv == nil {
		d.Getenv = os.Getenv
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ClaimWait <= 0 {
		d.ClaimWait = DefaultClaimWait
	}
	if d.ClaimLease <= 0 {
		d.ClaimLease = DefaultClaimLease
	}
	if d.RetryBase <= 0 {
		d.RetryBase = time.Second
	}
	if d.OpenStore == nil {
		log := d.Logger
		d.OpenStore = func(ctx context.Context, u string) (*store.Bucket, error) {
			return store.Open(ctx, u, store.Options{Logger: log})
		}
	}
}
