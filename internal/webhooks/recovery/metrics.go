package recovery

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what the recovery jobs did, for /metrics. Create it once per
// process with NewMetrics and pass it to every run; a nil *Metrics counts
// nothing.
type Metrics struct {
	redeliver *prometheus.CounterVec // outcome
	reconcile *prometheus.CounterVec // outcome
}

// NewMetrics registers ghsync_webhook_redeliveries_total{outcome} and
// ghsync_webhook_reconciled_jobs_total{outcome} on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		redeliver: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ghsync_webhook_redeliveries_total",
			Help: "Missed deliveries found by the redeliver job, by outcome (requested, already_requested, over_limit, failed).",
		}, []string{"outcome"}),
		reconcile: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ghsync_webhook_reconciled_jobs_total",
			Help: "Stuck workflow jobs handled by the reconcile job, by outcome (updated, unchanged, not_found, failed).",
		}, []string{"outcome"}),
	}
	for _, c := range []prometheus.Collector{m.redeliver, m.reconcile} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register recovery metrics: %w", err)
		}
	}
	return m, nil
}

func (m *Metrics) redelivered(s *RedeliverSummary) {
	if m == nil || s.DryRun {
		return
	}
	m.redeliver.WithLabelValues("requested").Add(float64(s.Requested))
	m.redeliver.WithLabelValues("already_requested").Add(float64(s.AlreadyRequested))
	m.redeliver.WithLabelValues("over_limit").Add(float64(s.OverLimit))
	m.redeliver.WithLabelValues("failed").Add(float64(s.Failed))
}

func (m *Metrics) reconciled(s *ReconcileSummary) {
	if m == nil || s.DryRun {
		return
	}
	m.reconcile.WithLabelValues("updated").Add(float64(s.Updated))
	m.reconcile.WithLabelValues("unchanged").Add(float64(s.Unchanged))
	m.reconcile.WithLabelValues("not_found").Add(float64(s.NotFound))
	m.reconcile.WithLabelValues("failed").Add(float64(s.Failed))
}

// RedeliverCounter returns the redeliveries counter for outcome (for tests
// and dashboards built in code).
func (m *Metrics) RedeliverCounter(outcome string) prometheus.Counter {
	return m.redeliver.WithLabelValues(outcome)
}
