package logs

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	queued     prometheus.Counter
	downloads  *prometheus.CounterVec // result: stored, retry, failed
	bytes      prometheus.Counter
	classified *prometheus.CounterVec // result: matched, no_match
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		queued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ghsync_webhook_log_downloads_queued_total",
			Help: "Completed workflow jobs queued for a log download.",
		}),
		downloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ghsync_webhook_log_downloads_total",
			Help: "Job log download attempts by result (stored, retry, failed: gave up; see log_downloads.last_error).",
		}, []string{"result"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ghsync_webhook_log_bytes_total",
			Help: "Uncompressed bytes of job logs stored.",
		}),
		classified: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ghsync_webhook_log_classifications_total",
			Help: "Job logs classified, by result (matched, no_match).",
		}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{m.queued, m.downloads, m.bytes, m.classified} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register log download metrics: %w", err)
		}
	}
	return m, nil
}
