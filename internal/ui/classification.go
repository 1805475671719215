package ui

import (
	"net/http"
	"strconv"
	"time"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/serve"
	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/classify"
)

// classificationData is the data of classification.html.
type classificationData struct {
	Days  int
	Stats *classify.Stats
}

// classificationPage is GET /ui/deliveries/classification?days=N (default
// 7, 1-366): the log classifier's accuracy over the job logs classified in
// the last N days, as `ghsync classify --stats` reports it, counted against
// the configured ruleset (webhooks.logs.rules, else the built-in one).
func (h *handler) classificationPage(w http.ResponseWriter, r *http.Request) {
	days := 7
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 366 {
			h.fail(w, r, http.StatusBadRequest, "Bad query: days must be a whole number from 1 to 366.", nil)
			return
		}
		days = n
	}
	cfg := h.o.Config
	if cfg == nil {
		cfg = &config.Config{}
	}
	rs, err := serve.LogsRuleset(cfg)
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, "The classifier's rules file could not be read.", err)
		return
	}
	s, err := webhooks.ClassificationStats(r.Context(), h.o.DB, h.o.Now().Add(-time.Duration(days)*24*time.Hour), rs)
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, "The log classifications could not be read.", err)
		return
	}
	h.render(w, r, http.StatusOK, "classification.html", "Log classification", "deliveries", classificationData{Days: days, Stats: s})
}

// Pct renders a share as a percentage with one decimal.
func (classificationData) Pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }
