package githubtest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The App's webhook deliveries (GET /app/hook/deliveries, cursor-paged with
// a Link header, newest first) and redelivery requests (POST
// /app/hook/deliveries/{delivery_id}/attempts). Both need the App JWT.
func init() {
	handlers["GET /app/hook/deliveries"] = hHookDeliveries
	handlers["POST /app/hook/deliveries/{delivery_id}/attempts"] = hRedeliver
	appRoutes["GET /app/hook/deliveries"] = true
	appRoutes["POST /app/hook/deliveries/{delivery_id}/attempts"] = true
}

// HookDelivery is one entry of the App's webhook delivery log.
type HookDelivery struct {
	ID             int64 // assigned by AddHookDelivery when 0
	GUID           string
	Event          string
	Action         string // "" renders null
	DeliveredAt    time.Time
	Redelivery     bool
	Status         string // e.g. "OK", "failed to connect"
	StatusCode     int    // e.g. 202, 502
	InstallationID int64
	RepositoryID   int64
}

// AddHookDelivery appends d to the App's delivery log and returns it with
// its ID set.
func (s *Server) AddHookDelivery(d HookDelivery) HookDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.ID == 0 {
		d.ID = s.id()
	}
	if d.DeliveredAt.IsZero() {
		d.DeliveredAt = time.Now()
	}
	a := s.actionsLocked()
	a.deliveries = append(a.deliveries, &d)
	return d
}

// Redeliveries returns the delivery ids redelivery was requested for, in
// request order.
func (s *Server) Redeliveries() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.actionsLocked().redelivered...)
}

// OnRedeliver sets fn to be called (in its own goroutine) with the original
// delivery whenever a redelivery of it is requested, so a test can re-send
// the webhook the way GitHub would.
func (s *Server) OnRedeliver(fn func(HookDelivery)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actionsLocked().onRedeliver = fn
}

func hookDeliveryJSON(d *HookDelivery) map[string]any {
	var action, inst, repo any
	if d.Action != "" {
		action = d.Action
	}
	if d.InstallationID != 0 {
		inst = d.InstallationID
	}
	if d.RepositoryID != 0 {
		repo = d.RepositoryID
	}
	return map[string]any{
		"id": d.ID, "guid": d.GUID, "delivered_at": d.DeliveredAt.UTC().Format(time.RFC3339),
		"redelivery": d.Redelivery, "duration": 0.05, "status": d.Status, "status_code": d.StatusCode,
		"event": d.Event, "action": action, "installation_id": inst, "repository_id": repo,
	}
}

func hHookDeliveries(c *call) {
	q := c.r.URL.Query()
	per := 30
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			c.w.error(http.StatusBadRequest, "per_page must be a positive integer")
			return
		}
		per = min(n, 100)
	}
	before := int64(-1) // cursor: only deliveries with a smaller id
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(strings.TrimPrefix(v, "v1_"), 10, 64)
		if err != nil {
			c.w.error(http.StatusBadRequest, "invalid cursor")
			return
		}
		before = n
	}
	status := q.Get("status")
	s := c.s
	s.mu.Lock()
	all := s.actionsLocked().deliveries
	var page []map[string]any
	more := false
	var last int64
	for i := len(all) - 1; i >= 0; i-- {
		d := all[i]
		if before >= 0 && d.ID >= before {
			continue
		}
		ok := d.StatusCode >= 200 && d.StatusCode < 400
		if (status == "success" && !ok) || (status == "failure" && ok) {
			continue
		}
		if len(page) == per {
			more = true
			break
		}
		page = append(page, hookDeliveryJSON(d))
		last = d.ID
	}
	s.mu.Unlock()
	if page == nil {
		page = []map[string]any{}
	}
	if more {
		next := url.Values{"per_page": {strconv.Itoa(per)}, "cursor": {"v1_" + strconv.FormatInt(last, 10)}}
		if status != "" {
			next.Set("status", status)
		}
		c.w.header.Set("Link", `<`+s.base+`/app/hook/deliveries?`+next.Encode()+`>; rel="next"`)
	}
	c.w.json(http.StatusOK, page)
}

func hRedeliver(c *call) {
	id, err := strconv.ParseInt(c.params["delivery_id"], 10, 64)
	if err != nil {
		c.w.notFound()
		return
	}
	s := c.s
	s.mu.Lock()
	a := s.actionsLocked()
	var orig *HookDelivery
	for _, d := range a.deliveries {
		if d.ID == id {
			orig = d
		}
	}
	if orig == nil {
		s.mu.Unlock()
		c.w.notFound()
		return
	}
	a.redelivered = append(a.redelivered, id)
	re := *orig
	re.ID, re.Redelivery, re.DeliveredAt = s.id(), true, time.Now()
	a.deliveries = append(a.deliveries, &re)
	fn := a.onRedeliver
	d := *orig
	s.mu.Unlock()
	if fn != nil {
		go fn(d)
	}
	c.w.json(http.StatusAccepted, map[string]any{})
}
