package scheduler

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// holderOf is the lease holder of attempt attempt of queue job id on a
// replica: "q<id>/a<attempt>/<replica>".
func holderOf(id int64, attempt int, replica string) string {
	return fmt.Sprintf("q%d/a%d/%s", id, attempt, replica)
}

// parseHolder splits a lease holder (holderOf); ok is false for any other
// text.
func parseHolder(holder string) (id int64, attempt int, replica string, ok bool) {
	q, rest, ok1 := strings.Cut(holder, "/")
	a, replica, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || !strings.HasPrefix(q, "q") || !strings.HasPrefix(a, "a") {
		return 0, 0, "", false
	}
	id, err1 := strconv.ParseInt(q[1:], 10, 64)
	n, err2 := strconv.Atoi(a[1:])
	if err1 != nil || err2 != nil {
		return 0, 0, "", false
	}
	return id, n, replica, true
}

// skipReason says in words why a tick was skipped, for the run history,
// the log and the UI: "the previous run (started 14:03:10 UTC, 2m
// ago, on this replica vm-28912) is still going". holder is the lease's
// current holder; the run's start comes from its history row (absent in the
// moment between taking the lease and recording the start).
func (h *history) skipReason(ctx context.Context, holder, self string, now time.Time) string {
	id, attempt, replica, ok := parseHolder(holder)
	if !ok {
		return "the previous run is still going (lease held by " + holder + ")"
	}
	where := "on replica " + replica
	if replica == self {
		where = "on this replica " + replica
	}
	var started string
	err := h.d.QueryRow(ctx, `SELECT started_at FROM ghsync_runs WHERE river_job_id = ? AND attempt = ? AND replica = ?
		ORDER BY id DESC LIMIT 1`, id, attempt, replica).Scan(&started)
	if errors.Is(err, sql.ErrNoRows) || err == nil && started == "" {
		return fmt.Sprintf("the previous run (%s, just started) is still going", where)
	}
	if err != nil {
		return fmt.Sprintf("the previous run (%s) is still going", where)
	}
	at := parseTime(started).UTC()
	when := at.Format("15:04:05 MST")
	if now.UTC().Sub(at) >= 20*time.Hour || now.UTC().YearDay() != at.YearDay() {
		when = at.Format("2006-01-02 15:04:05 MST")
	}
	return fmt.Sprintf("the previous run (started %s, %s ago, %s) is still going", when, ago(now.Sub(at)), where)
}

// ago renders d for people: "40s", "2m", "1h5m".
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(max(0, int(d.Seconds()))) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	default:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return strconv.Itoa(h) + "h"
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
}
