package ui

import (
	"net/http"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// metricsData is the data of metrics.html.
type metricsData struct {
	// Families are the metrics /metrics exposes now (empty without
	// Options.Metrics).
	Families []metricFamily
	// Err is set when the metrics could not be gathered.
	Err string
}

type metricFamily struct {
	Name, Type, Help string
	Series           int
	// Value is the current value of a metric without labels ("" for
	// labelled metrics and histograms).
	Value string
}

// metricsPage explains /metrics (what it is for, how Prometheus scrapes
// it) and lists the metrics it exposes with their help texts; /metrics
// itself stays the raw Prometheus text for scrapers.
func (h *handler) metricsPage(w http.ResponseWriter, r *http.Request) {
	var data metricsData
	if h.o.Metrics != nil {
		mfs, err := h.o.Metrics.Gather()
		if err != nil {
			h.log.Warn("ui: gather metrics", "err", err)
			data.Err = "Some metrics could not be gathered; /metrics shows the rest."
		}
		for _, mf := range mfs {
			f := metricFamily{Name: mf.GetName(), Type: strings.ToLower(mf.GetType().String()), Help: mf.GetHelp(), Series: len(mf.GetMetric())}
			if ms := mf.GetMetric(); len(ms) == 1 && len(ms[0].GetLabel()) == 0 {
				f.Value = scalarValue(ms[0])
			}
			data.Families = append(data.Families, f)
		}
		sort.Slice(data.Families, func(i, j int) bool { return data.Families[i].Name < data.Families[j].Name })
	}
	h.render(w, r, http.StatusOK, "metrics.html", "Metrics", "metrics", data)
}

// scalarValue renders a counter's or gauge's value ("" for other types).
func scalarValue(m *dto.Metric) string {
	switch {
	case m.GetCounter() != nil:
		return trimFloat(m.GetCounter().GetValue())
	case m.GetGauge() != nil:
		return trimFloat(m.GetGauge().GetValue())
	case m.GetUntyped() != nil:
		return trimFloat(m.GetUntyped().GetValue())
	}
	return ""
}
