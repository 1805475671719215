package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/webhooks"
)

// TestClassificationPage: the webhook section's classification page shows
// the figures of `ghsync classify --stats` over the logs of the last N days.
func TestClassificationPage(t *testing.T) {
	d := dbtest.SQLite(t)
	ctx := context.Background()
	if err := webhooks.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	for i, r := range []struct {
		rule any
		age  time.Duration
	}{{"pytest failure", time.Hour}, {"pytest failure", 2 * time.Hour}, {"GitHub Actions error", time.Hour}, {nil, time.Hour}, {"pytest failure", 20 * 24 * time.Hour}} {
		at := db.FormatTime(now.Add(-r.age))
		if _, err := d.Exec(ctx, `INSERT INTO log_downloads (job_key, repo, job_id, delivery_id, state, next_attempt_at, created_at, rule, done_at)
 VALUES (?, 'o/r', ?, 'd', 'done', ?, ?, ?, ?)`, fmt.Sprintf("o/r/%d", i), i, at, at, r.rule, at); err != nil {
			t.Fatal(err)
		}
	}
	h := newUI(t, d, nil)
	code, body := get(t, h, "/ui/deliveries/classification")
	if code != http.StatusOK {
		t.Fatalf("GET: %d\n%s", code, body)
	}
	mustContain(t, "last 7 days", body, "4 job logs classified in the last 7 days",
		"<th scope=\"row\">Matched by a specific rule</th><td>2</td><td>50.0%</td>",
		"<th scope=\"row\">Fell to a catch-all rule</th><td>1</td><td>25.0%</td>",
		"<th scope=\"row\">Unmatched</th><td>1</td><td>25.0%</td>",
		"<th scope=\"row\">GitHub Actions error <span class=\"note\">(catch-all)</span></th><td>1</td><td>25.0%</td>")
	_, body = get(t, h, "/ui/deliveries/classification?days=30")
	mustContain(t, "last 30 days", body, "5 job logs classified in the last 30 days", "<th scope=\"row\">pytest failure</th><td>3</td><td>60.0%</td>")
	if code, _ := get(t, h, "/ui/deliveries/classification?days=0"); code != http.StatusBadRequest {
		t.Errorf("days=0: %d", code)
	}
}
