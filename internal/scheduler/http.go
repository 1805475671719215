package scheduler

import (
	"github.com/ghsync/ghsync/internal/webutil"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/ghsync/ghsync/internal/db"
)

// RunsHandler serves the run history as JSON, newest first:
// GET /api/runs?job=NAME&limit=N (limit default 50, at most 1000) →
// {"runs": [Run, …]}. A bad limit is a 400.
func RunsHandler(d *db.DB, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := RunQuery{Job: r.URL.Query().Get("job")}
		if l := r.URL.Query().Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 0 {
				webutil.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "limit must be a non-negative integer"})
				return
			}
			q.Limit = n
		}
		runs, err := Runs(r.Context(), d, q)
		if err != nil {
			log.Error("run history query failed", "err", err)
			webutil.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "query failed"})
			return
		}
		if runs == nil {
			runs = []Run{}
		}
		webutil.WriteJSON(w, http.StatusOK, map[string]any{"runs": runs})
	})
}
