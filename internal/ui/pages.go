package ui

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/schedule"
	"github.com/ghsync/ghsync/internal/scheduler"
	"github.com/ghsync/ghsync/internal/webhooks"
)

// jobRow is one line of the jobs table.
type jobRow struct {
	Name, Kind   string
	Schedule     string // as written, with " (ZONE)" when a timezone is set
	ScheduleErr  string // the schedule does not parse
	Next         time.Time
	Configured   bool // false: only known from the run history
	Last         *runView
	SettingsRows []field // shown on the job page
	AllSettings  []field // every setting of the kind (allSettings)
	Alerts       string  // the alert levels sent for the job
	Inbox        bool    // an inbox job: its sets are on the inbox page
}

// runView is a run-history row prepared for display.
type runView struct {
	scheduler.Run
	Summary summaryView
	Error   string // redacted
}

func newRunView(r scheduler.Run) *runView {
	return &runView{Run: r, Summary: parseSummary(r.Summary), Error: redactText(r.Error)}
}

// jobsData is the data of jobs.html.
type jobsData struct {
	Jobs       []jobRow
	ConfigFile string
}

func (h *handler) jobsPage(w http.ResponseWriter, r *http.Request) {
	last, err := scheduler.LastRuns(r.Context(), h.o.DB)
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, "The run history could not be read.", err)
		return
	}
	var data jobsData
	seen := map[string]bool{}
	if c := h.o.Config; c != nil {
		data.ConfigFile = c.File
		for _, j := range c.Jobs {
			row := h.configuredJob(j)
			if run, ok := last[j.Name]; ok {
				row.Last = newRunView(*run)
			}
			seen[j.Name] = true
			data.Jobs = append(data.Jobs, row)
		}
	}
	var extra []jobRow
	for name, run := range last {
		if !seen[name] {
			extra = append(extra, jobRow{Name: name, Last: newRunView(*run)})
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].Name < extra[j].Name })
	data.Jobs = append(data.Jobs, extra...)
	h.render(w, r, http.StatusOK, "jobs.html", "Jobs", "jobs", data)
}

// configuredJob describes a configured job (without its runs).
func (h *handler) configuredJob(j *config.Job) jobRow {
	row := jobRow{Name: j.Name, Kind: j.Kind, Schedule: j.Schedule, Configured: true}
	if j.Schedule != "" {
		if j.Timezone != "" {
			row.Schedule += " (" + j.Timezone + ")"
		}
		if s, err := schedule.Parse(j.Schedule, j.Timezone); err != nil {
			row.ScheduleErr = err.Error()
		} else {
			row.Next = s.Next(h.o.Now())
		}
	}
	add := func(k, v string) {
		if v != "" {
			row.SettingsRows = append(row.SettingsRows, field{Key: k, Value: redactText(v)})
		}
	}
	for _, st := range h.kinds().Describe(j).Settings {
		add(st.Label, st.Value)
	}
	row.AllSettings = allSettings(j.Settings)
	levels := make([]string, len(j.Alerts))
	for i, l := range j.Alerts {
		levels[i] = string(l)
	}
	row.Alerts = strings.Join(levels, ", ")
	row.Inbox = j.Kind == "inbox"
	return row
}

// jobData is the data of job.html.
type jobData struct {
	Job jobRow
	// LastTables are the per-table counts of the newest run that has
	// them (API sync jobs).
	LastTables *lastTables
	// Inbox is set for inbox jobs (configured, or with sets in the history).
	Inbox bool

	Runs      []*runView
	Limit     int
	NextLimit int // the limit of the "show more" link
	More      bool
}

func (h *handler) jobPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("job")
	limit := 50
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			h.fail(w, r, http.StatusBadRequest, "limit must be a positive number.", nil)
			return
		}
		limit = min(n, 1000)
	}
	runs, err := scheduler.Runs(r.Context(), h.o.DB, scheduler.RunQuery{Job: name, Limit: limit + 1})
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, "The run history could not be read.", err)
		return
	}
	data := jobData{Job: jobRow{Name: name}, Limit: limit, NextLimit: min(limit*4, 1000)}
	if c := h.o.Config; c != nil {
		if j, ok := c.Job(name); ok {
			data.Job = h.configuredJob(j)
		}
	}
	if !data.Job.Configured && len(runs) == 0 {
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no job called %q.", name), nil)
		return
	}
	if len(runs) > limit {
		runs, data.More = runs[:limit], true
	}
	for _, run := range runs {
		v := newRunView(run)
		data.Runs = append(data.Runs, v)
		if data.LastTables == nil && len(v.Summary.Tables) > 0 {
			data.LastTables = &lastTables{Run: v, Tables: v.Summary.Tables}
		}
		if len(v.Summary.Sets) > 0 {
			data.Inbox = true
		}
	}
	data.Inbox = data.Inbox || data.Job.Inbox
	h.render(w, r, http.StatusOK, "job.html", "Job "+name, "jobs", data)
}

// lastTables are the per-table counts of an API sync job's newest run
// that has them.
type lastTables struct {
	Run    *runView
	Tables []tableCounts
}

// runData is the data of run.html.
type runData struct {
	Run        *runView
	Configured bool
}

// errRunNotFound is returned by findRun when the history has no such run.
var errRunNotFound = errors.New("run not found")

func (h *handler) runPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("job")
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(w, r, http.StatusNotFound, "There is no such run.", nil)
		return
	}
	run, err := h.findRun(r, name, id)
	if errors.Is(err, errRunNotFound) {
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("Run %d of job %q is not in the history (it may have been pruned).", id, name), nil)
		return
	}
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, "The run history could not be read.", err)
		return
	}
	data := runData{Run: newRunView(*run)}
	if c := h.o.Config; c != nil {
		_, data.Configured = c.Job(name)
	}
	h.render(w, r, http.StatusOK, "run.html", fmt.Sprintf("Run %d of %s", id, name), "jobs", data)
}

// findRun looks run id of job up in the history (which keeps a bounded
// number of rows per job, so the newest 1000 contain every kept run).
func (h *handler) findRun(r *http.Request, job string, id int64) (*scheduler.Run, error) {
	runs, err := scheduler.Runs(r.Context(), h.o.DB, scheduler.RunQuery{Job: job, Limit: 1000})
	if err != nil {
		return nil, err
	}
	for i := range runs {
		if runs[i].ID == id {
			return &runs[i], nil
		}
	}
	return nil, errRunNotFound
}

// deliveriesData is the data of deliveries.html.
type deliveriesData struct {
	// Stats are the deliveries per event and the newest failures (shown
	// on the first, unfiltered page).
	Stats *webhookStats
	// (Classifier figures — `ghsync classify --stats` — belong next to
	// Stats: deliveries.html has the spot, id="classifier".)
	Event      string
	Deliveries []deliveryView
	NextCursor string
}

type deliveryView struct {
	webhooks.DeliveryInfo
	Received, Processed time.Time
	LastError           string // redacted
}

func (h *handler) deliveriesPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := deliveriesData{Event: strings.TrimSpace(q.Get("event"))}
	page, err := webhooks.QueryDeliveries(r.Context(), h.o.DB, webhooks.DeliveryQuery{
		Event: data.Event, Cursor: q.Get("cursor"), Limit: 100})
	if errors.Is(err, webhooks.ErrInvalidQuery) {
		h.fail(w, r, http.StatusBadRequest, "Bad query: "+err.Error(), nil)
		return
	}
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, "The deliveries could not be read.", err)
		return
	}
	for _, d := range page.Deliveries {
		v := deliveryView{DeliveryInfo: d, LastError: redactText(d.LastError)}
		v.Received, _ = db.ParseTime(d.ReceivedAt)
		if d.ProcessedAt != "" {
			v.Processed, _ = db.ParseTime(d.ProcessedAt)
		}
		data.Deliveries = append(data.Deliveries, v)
	}
	data.NextCursor = page.NextCursor
	if q.Get("cursor") == "" && data.Event == "" {
		st := h.readWebhookStats(r.Context())
		data.Stats = &st
	}
	h.render(w, r, http.StatusOK, "deliveries.html", "Webhook deliveries", "deliveries", data)
}

// kinds returns the job kinds that describe configured jobs.
func (h *handler) kinds() *jobs.Registry {
	if h.o.Kinds != nil {
		return h.o.Kinds
	}
	return jobs.Builtin()
}
