package scheduler

import (
	"github.com/prometheus/client_golang/prometheus"

	promreg "github.com/ghsync/ghsync/internal/metrics"
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
	var err error
	m.skipped = promreg.Register(reg, m.skipped, &err)
	m.runs = promreg.Register(reg, m.runs, &err)
	m.enqueued = promreg.Register(reg, m.enqueued, &err)
	m.duration = promreg.Register(reg, m.duration, &err)
	return m, err
}
