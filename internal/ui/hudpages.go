package ui

import (
	"context"
	"errors"
	"net/http"

	"github.com/ghsync/ghsync/internal/hud"
	"github.com/ghsync/ghsync/internal/scheduler"
)

// hudSource is what the UI needs of the HUD to render it inside its own
// layout (same navigation, type and colours): *hud.Handler has it. A HUD
// without it is mounted as it is (its own pages, links rewritten).
type hudSource interface {
	Index(ctx context.Context) (hud.IndexPage, error)
	Grid(ctx context.Context, key, filter string) (hud.GridPage, error)
}

// statusesJob is a configured statuses job with its last run, for the
// HUD's index: a failing job says so and links its run.
type statusesJob struct {
	Name string
	Last *runView
}

// hudIndexData is the data of hud.html.
type hudIndexData struct {
	hud.IndexPage
	Jobs []statusesJob
	// Failing are the jobs whose last run failed.
	Failing []statusesJob
	Err     string
}

func (h *handler) hudIndexPage(src hudSource) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var data hudIndexData
		p, err := src.Index(r.Context())
		if err != nil {
			h.log.Warn("ui: HUD index", "err", err)
			data.Err = redactText(err.Error())
		}
		data.IndexPage = p
		last, err := scheduler.LastRuns(r.Context(), h.o.DB)
		if err != nil {
			h.fail(w, r, http.StatusInternalServerError, "The run history could not be read.", err)
			return
		}
		if c := h.o.Config; c != nil {
			for _, j := range c.Jobs {
				if j.Kind != "statuses" {
					continue
				}
				sj := statusesJob{Name: j.Name}
				if run, ok := last[j.Name]; ok {
					sj.Last = newRunView(*run)
					if run.Outcome == scheduler.OutcomeFailed || run.Outcome == scheduler.OutcomeAbandoned {
						data.Failing = append(data.Failing, sj)
					}
				}
				data.Jobs = append(data.Jobs, sj)
			}
		}
		h.renderRefresh(w, r, "hud.html", "Status HUD", p.Refresh.Seconds(), data)
	}
}

// hudGridData is the data of hudgrid.html.
type hudGridData struct {
	hud.GridPage
}

func (h *handler) hudGridPage(src hudSource) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := src.Grid(r.Context(), r.PathValue("key"), r.URL.Query().Get("filter"))
		var ge *hud.GridError
		if errors.As(err, &ge) {
			h.fail(w, r, ge.Status, redactText(ge.Error()), nil)
			return
		}
		if err != nil {
			h.fail(w, r, http.StatusBadGateway, "The snapshot could not be read.", err)
			return
		}
		h.renderRefresh(w, r, "hudgrid.html", p.Title, p.Refresh.Seconds(), hudGridData{GridPage: p})
	}
}
