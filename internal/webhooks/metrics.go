package webhooks

import (
	"fmt"

	"github.com/google/go-github/v88/github"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the webhook counters; registered on the Registerer given in Config.
type metrics struct {
	deliveries  *prometheus.CounterVec // event, outcome
	lag         prometheus.Histogram   // received → processed
	projections *prometheus.CounterVec // table, result (applied|stale)
	failures    prometheus.Counter     // processing attempts that failed
	archived    *prometheus.CounterVec // kind (batch|per_delivery), result
	commitBatch prometheus.Histogram   // deliveries per commit
	dynamo      *prometheus.CounterVec // result: written, stale, deferred, error
	pruned      *prometheus.CounterVec // what: payload, delivery
	knownEvents map[string]bool
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ghsync_webhook_deliveries_total",
			Help: "Webhook deliveries received, by event and outcome (stored, duplicate, unauthorized, bad_request, too_large, error).",
		}, []string{"event", "outcome"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ghsync_webhook_processing_lag_seconds",
			Help:    "Time from receiving a delivery to its projection being committed.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
		projections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ghsync_webhook_projection_updates_total",
			Help: "Projection row writes by table and result (applied, or stale when the ordering guard kept a newer row).",
		}, []string{"table", "result"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ghsync_webhook_processing_failures_total",
			Help: "Delivery processing attempts that failed and will be retried.",
		}),
		archived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ghsync_webhook_archive_objects_total",
			Help: "Raw archive objects written, by kind (batch, per_delivery) and result (ok, error).",
		}, []string{"kind", "result"}),
		commitBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ghsync_webhook_commit_batch_size",
			Help:    "Deliveries committed per database transaction (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		dynamo: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ghsync_webhook_dynamo_writes_total",
			Help: "Projection rows (and job log classifications) written to DynamoDB, by result (written, stale: the guard kept a newer item, deferred: a classification whose job item is not written yet carries it when it is, error: retried).",
		}, []string{"result"}),
		pruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ghsync_webhook_pruned_total",
			Help: "Rows deleted by the retention: payloads of processed, archived deliveries (payload) and deliveries past webhooks.retention (delivery).",
		}, []string{"what"}),
		knownEvents: map[string]bool{},
	}
	for _, t := range github.MessageTypes() {
		m.knownEvents[t] = true
	}
	for _, c := range []prometheus.Collector{m.deliveries, m.lag, m.projections, m.failures, m.archived, m.commitBatch, m.dynamo, m.pruned} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register webhook metrics: %w", err)
		}
	}
	return m, nil
}

// eventLabel bounds label cardinality: unknown event names become "other".
func (m *metrics) eventLabel(e string) string {
	if m.knownEvents[e] || e == "" {
		return e
	}
	return "other"
}
