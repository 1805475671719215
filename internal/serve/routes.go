package serve

import (
	"context"
	"errors"
	"fmt"
	"github.com/ghsync/ghsync/internal/webutil"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/dynamo"
)

func (s *Server) routes() {
	// Public: the receivers check signatures; health says nothing.
	s.HandlePublic("POST "+s.opts.WebhookPath, s.hooks.Handler())
	// Other methods get 405 naming POST (without this, the UI's catch-all
	// "/" would answer them with its HTML 404).
	s.HandlePublic(s.opts.WebhookPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", http.MethodPost)
		webutil.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "GitHub webhooks are delivered with POST"})
	}))
	s.HandlePublic("GET /healthz", http.HandlerFunc(Healthz))
	s.HandlePublic("GET /readyz", http.HandlerFunc(s.ready))
	if s.circle != nil {
		s.HandlePublic("POST "+CircleCIPath, s.circle.Handler())
	}
	if s.auth != nil {
		s.HandlePublic("GET "+LoginPath, http.HandlerFunc(s.auth.loginPage))
		s.HandlePublic("POST "+LoginPath, http.HandlerFunc(s.auth.login))
		s.HandlePublic("POST "+LogoutPath, http.HandlerFunc(s.auth.logout))
	}
	// Behind the token when one is set.
	s.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	s.Handle("GET /api/deliveries", http.HandlerFunc(s.apiDeliveries))
	s.Handle("GET /api/events/{table}", http.HandlerFunc(s.apiEvents))
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.log.Warn("readiness check failed", "err", err)
		webutil.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
		return
	}
	webutil.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) apiDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, since, err := pageParams(q.Get("limit"), q.Get("since"))
	if err != nil {
		webutil.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	page, err := webhooks.QueryDeliveries(r.Context(), s.db, webhooks.DeliveryQuery{
		Event: q.Get("event"), Since: since, Limit: limit, Cursor: q.Get("cursor")})
	s.answer(w, page, err)
}

// dynamoOnly reports whether projections are written only to DynamoDB.
func (s *Server) dynamoOnly() bool { return s.opts.Dynamo != nil && s.opts.Dynamo.Only }

func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request) {
	if s.dynamoOnly() {
		// The SQL projection tables are empty by configuration: say where
		// the rows are rather than answer an empty page.
		table := r.PathValue("table")
		if !webhooks.IsTable(table) {
			webutil.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("unknown projection table %q (one of %v)", table, webhooks.Tables)})
			return
		}
		e := &webhooks.DynamoOnlyError{Table: table, DynamoTable: dynamo.TableName(s.opts.Dynamo.TablePrefix, table)}
		webutil.WriteJSON(w, http.StatusConflict, map[string]string{"error": e.Error(), "dynamodb_table": e.DynamoTable})
		return
	}
	q := r.URL.Query()
	limit, since, err := pageParams(q.Get("limit"), q.Get("since"))
	if err != nil {
		webutil.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	page, err := webhooks.QueryEvents(r.Context(), s.db, r.PathValue("table"), webhooks.EventQuery{
		Repo: q.Get("repo"), Status: q.Get("status"), Classification: q.Get("classification"), Since: since, Limit: limit, Cursor: q.Get("cursor")})
	s.answer(w, page, err)
}

func (s *Server) answer(w http.ResponseWriter, page any, err error) {
	switch {
	case errors.Is(err, webhooks.ErrInvalidQuery):
		webutil.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case err != nil:
		s.log.Error("read API query failed", "err", err)
		webutil.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "query failed"})
	default:
		webutil.WriteJSON(w, http.StatusOK, page)
	}
}

// pageParams parses limit (integer) and since (RFC 3339, or a duration such as
// 24h meaning "that long ago").
func pageParams(limit, since string) (int, time.Time, error) {
	var n int
	var t time.Time
	if limit != "" {
		v, err := strconv.Atoi(limit)
		if err != nil || v < 0 {
			return 0, t, fmt.Errorf("limit must be a non-negative integer")
		}
		n = v
	}
	if since != "" {
		if d, err := time.ParseDuration(since); err == nil {
			t = time.Now().Add(-d)
		} else if v, err := time.Parse(time.RFC3339Nano, since); err == nil {
			t = v
		} else if v, err := time.Parse("2006-01-02", since); err == nil {
			t = v
		} else {
			return 0, t, fmt.Errorf("since must be RFC 3339, a date (YYYY-MM-DD) or a duration (24h)")
		}
	}
	return n, t, nil
}

// statusWriter records the status code for the latency histogram.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) measure(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		s.latency.WithLabelValues(route, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	})
}
