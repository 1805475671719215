package jobs

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/store"
	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/logs"
	"github.com/ghsync/ghsync/internal/webhooks/recovery"
)

// Keys of Env.Shared values of the webhook recovery kinds.
const (
	sharedLogDownloader  = "webhooks.logs.downloader"
	sharedRecoveryMetric = "webhooks.recovery.metrics"
)

// UseLogDownloader offers the process's webhook log downloader (serve's, the
// Lambda's) to the jobs: reconcile queues the logs of the jobs it finds
// completed on it, so that they are downloaded by the running server and
// counted in its metrics. nil is ignored.
func (e *Env) UseLogDownloader(dl *logs.Downloader) {
	if dl == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shared == nil {
		e.shared = map[string]any{}
	}
	e.shared[sharedLogDownloader] = dl
}

// logDownloader returns the downloader offered with UseLogDownloader, or,
// when webhooks.logs is enabled and none was offered (`ghsync run`), one
// built for this run from the config (the caller calls release after the
// run): it only queues downloads, which the server works off. (nil, no-op)
// when logs are not enabled.
func (e *Env) logDownloader(ctx context.Context) (dl *logs.Downloader, release func(), err error) {
	e.mu.Lock()
	v, ok := e.shared[sharedLogDownloader].(*logs.Downloader)
	e.mu.Unlock()
	if ok {
		return v, func() {}, nil
	}
	l := e.Config.Webhooks.Logs
	if !l.Enabled() {
		return nil, func() {}, nil
	}
	gh, err := e.GitHub(ctx)
	if err != nil {
		return nil, nil, err
	}
	b, err := e.OpenStore(ctx, l.Dest, store.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("webhooks.logs.dest: %w", err)
	}
	p := logs.Policy{Default: logs.Mode(l.Download)}
	for _, r := range l.Repos {
		p.Repos = append(p.Repos, logs.RepoMode{Pattern: r.Pattern, Mode: logs.Mode(r.Mode)})
	}
	d, err := e.DB(ctx)
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	dl, err = logs.New(logs.Options{DB: d, GitHub: gh, Bucket: b, Policy: p, Logger: e.Logger})
	if err != nil {
		b.Close()
		return nil, nil, Usage(err)
	}
	return dl, func() { b.Close() }, nil
}

// recoveryMetrics returns the process's recovery metrics, registered once on
// Env.Registerer (a private registry when it is nil).
func (e *Env) recoveryMetrics() (*recovery.Metrics, error) {
	v, err := e.SharedErr(sharedRecoveryMetric, func() (any, error) {
		reg := e.Registerer
		if reg == nil {
			reg = prometheus.NewRegistry()
		}
		return recovery.NewMetrics(reg)
	})
	if err != nil {
		return nil, err
	}
	return v.(*recovery.Metrics), nil
}

// webhookDB returns the database with the webhook tables migrated (the
// recovery kinds read deliveries and projections, which may not exist yet
// when only the CLI has run).
func (e *Env) webhookDB(ctx context.Context) (*db.DB, error) {
	d, err := e.DB(ctx)
	if err != nil {
		return nil, err
	}
	if err := webhooks.Migrate(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}
