package scheduler

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the scheduler's Prometheus series (per replica).
type metrics struct {
	skipped  *prometheus.CounterVec
	runs     *prometheus.CounterVec
	enqueued *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ghsync_schedule_skipped_total",
			Help: "Schedule ticks (or queued runs) skipped because the job was still running.",
		}, []string{"job"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ghsync_job_runs_total",
			Help: "Job runs by this replica, by outcome (ok, failed).",
		}, []string{"job", "outcome"}),
		enqueued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ghsync_schedule_ticks_total",
			Help: "Schedule ticks enqueued by this replica while it was the leader.",
		}, []string{"job"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ghsync_job_run_duration_seconds",
			Help:    "Duration of job runs by this replica.",
			Buckets: []float64{.1, .5, 1, 5, 15, 60, 300, 900, 3600},
		}, []string{"job"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.skipped = register(reg, m.skipped, &err)
	m.runs = register(reg, m.runs, &err)
	m.enqueued = register(reg, m.enqueued, &err)
	m.duration = register(reg, m.duration, &err)
	return m, err
}

// register registers c, or returns the collector already registered under
// the same name (several schedulers on one registry share series).
func register[C prometheus.Collector](reg prometheus.Registerer, c C, errp *error) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		*errp = errors.Join(*errp, err)
	}
	return c
}
