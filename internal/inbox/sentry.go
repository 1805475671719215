package inbox

import (
	"log/slog"
	"time"

	"github.com/getsentry/sentry-go"
)

// sentryReporter sends processing errors to Sentry when a DSN is
// configured. It owns its client (no global hub) and is flushed before the
// processing call returns, so a Lambda invocation does not lose events.
type sentryReporter struct {
	client *sentry.Client
	log    *slog.Logger
	sent   int
}

func newSentry(dsn string, deps *Deps) *sentryReporter {
	r := &sentryReporter{log: deps.Logger}
	if dsn == "" {
		return r
	}
	c, err := sentry.NewClient(sentry.ClientOptions{Dsn: dsn, HTTPClient: noRedirects(deps.HTTP)})
	if err != nil {
		// The DSN was validated at load; never print it (it holds the key).
		deps.Logger.Error("inbox: Sentry client not created; errors go to the log only", "error", "invalid sentry_dsn")
		return r
	}
	r.client = c
	return r
}

// capture sends err with the job and set as tags.
func (r *sentryReporter) capture(err error, job, prefix string) {
	if r.client == nil {
		return
	}
	scope := sentry.NewScope()
	scope.SetTag("ghsync.job", job)
	scope.SetTag("ghsync.set", prefix)
	sentry.NewHub(r.client, scope).CaptureException(err)
	r.sent++
}

// flush waits (up to 5 s) for captured events to be delivered.
func (r *sentryReporter) flush() {
	if r.client == nil || r.sent == 0 {
		return
	}
	if !r.client.Flush(5 * time.Second) {
		r.log.Error("inbox: Sentry events not delivered within 5s", "events", r.sent)
	}
}

// reportToSentry sends one error outside a set's processing (a listing
// failure) and flushes.
func reportToSentry(deps *Deps, cfg *Config, prefix string, err error) {
	r := newSentry(cfg.SentryDSN, deps)
	r.capture(err, cfg.Name, prefix)
	r.flush()
}
