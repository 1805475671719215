package webhooks_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/webhooks"
)

func TestOutOfOrderWorkflowJob(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, nil)
		ctx := context.Background()
		// completed arrives first, then in_progress, then queued; each processed
		// on its own (the worst case) and then all in one batch.
		steps := []struct{ status, started, completed string }{
			{"completed", "2024-01-01T10:01:00Z", "2024-01-01T10:05:00Z"},
			{"in_progress", "2024-01-01T10:01:00Z", ""},
			{"queued", "", ""},
		}
		for i, s := range steps {
			if c := b.post(t, "workflow_job", fmt.Sprintf("job-%d", i), jobPayload("o/r", 99, s.status, s.started, s.completed)); c != 202 {
				t.Fatalf("post: %d", c)
			}
			b.process(t)
		}
		for i, s := range steps {
			b.post(t, "workflow_job", fmt.Sprintf("batch-%d", i), jobPayload("o/r", 100, s.status, s.started, s.completed))
		}
		b.process(t)
		for _, key := range []string{"o/r/99", "o/r/100"} {
			page, err := webhooks.QueryEvents(ctx, d, "workflow_job", webhooks.EventQuery{Repo: "o/r"})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, r := range page.Rows {
				if r.Key == key {
					found = true
					if r.Status != "completed" || r.Conclusion != "success" || r.UpdatedAt != "2024-01-01T10:05:00.000000Z" {
						t.Errorf("%s ended %+v, want completed/success", key, r)
					}
				}
			}
			if !found {
				t.Errorf("%s missing", key)
			}
		}
		if got := b.metric(t, "ghsync_webhook_projection_updates_total", map[string]string{"table": "workflow_job", "result": "stale"}); got != 4 {
			t.Errorf("stale updates = %v, want 4", got)
		}
		// In order, every step applies.
		for i, s := range []string{"queued", "in_progress", "completed"} {
			b.post(t, "workflow_job", fmt.Sprintf("fwd-%d", i), jobPayload("o/r", 101, s, "2024-01-01T10:01:00Z", map[bool]string{true: "2024-01-01T10:09:00Z"}[s == "completed"]))
			b.process(t)
			var st string
			d.QueryRow(ctx, "SELECT status FROM workflow_job WHERE key = ?", "o/r/101").Scan(&st)
			if st != s {
				t.Fatalf("step %d: status %q, want %q", i, st, s)
			}
		}
	})
}

func TestOutOfOrderIssues(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, nil)
		ctx := context.Background()
		b.post(t, "issues", "i-new", issuePayload("o/r", 5, "closed", "closed", "new title", "2024-03-01T12:00:00Z"))
		b.process(t)
		b.post(t, "issues", "i-old", issuePayload("o/r", 5, "edited", "open", "old title", "2024-03-01T11:59:59Z"))
		b.process(t)
		var state, name, deliv string
		var rev int
		if err := d.QueryRow(ctx, "SELECT status, name, delivery_id, revision FROM issues WHERE key = ?", "o/r/5").Scan(&state, &name, &deliv, &rev); err != nil {
			t.Fatal(err)
		}
		if state != "closed" || name != "new title" || deliv != "i-new" || rev != 1 {
			t.Fatalf("older issue overwrote newer: %s %q %s rev %d", state, name, deliv, rev)
		}
		// A newer one does apply, including across a timezone offset.
		b.post(t, "issues", "i-newer", issuePayload("o/r", 5, "reopened", "open", "newest", "2024-03-01T14:00:01+02:00"))
		b.process(t)
		d.QueryRow(ctx, "SELECT status, name, revision FROM issues WHERE key = ?", "o/r/5").Scan(&state, &name, &rev)
		if state != "open" || name != "newest" || rev != 2 {
			t.Fatalf("newer issue not applied: %s %q rev %d", state, name, rev)
		}
	})
}

func TestProcessingRetries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, func(c *webhooks.Config) { c.MaxAttempts = 3 })
		ctx := context.Background()
		// Valid JSON, but workflow_job has the wrong shape: projection fails.
		b.post(t, "workflow_job", "broken", []byte(`{"action":"queued","workflow_job":"oops","repository":{"full_name":"o/r"}}`))
		b.post(t, "workflow_job", "fine", jobPayload("o/r", 1, "queued", "", ""))
		if _, err := b.svc.ProcessPending(ctx); err != nil {
			t.Fatal(err)
		}
		var attempts int
		var lastErr *string
		d.QueryRow(ctx, "SELECT attempts, last_error FROM deliveries WHERE delivery_id = 'broken'").Scan(&attempts, &lastErr)
		if attempts != 1 || lastErr == nil || *lastErr == "" {
			t.Fatalf("after one failure: attempts %d, last_error %v", attempts, lastErr)
		}
		if n := b.count(t, "SELECT COUNT(*) FROM workflow_job WHERE key = 'o/r/1'"); n != 1 {
			t.Fatal("a failing delivery blocked another one in its batch")
		}
		for i := 0; i < 200 && attempts < 3; i++ {
			b.svc.ProcessPending(ctx)
			d.QueryRow(ctx, "SELECT attempts FROM deliveries WHERE delivery_id = 'broken'").Scan(&attempts)
		}
		if attempts != 3 {
			t.Fatalf("attempts = %d, want 3 (MaxAttempts)", attempts)
		}
		if n, _ := b.svc.ProcessPending(ctx); n != 0 {
			t.Fatalf("a delivery past MaxAttempts was retried")
		}
	})
}

func TestQueries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, nil)
		ctx := context.Background()
		for i := 1; i <= 7; i++ {
			b.post(t, "issues", fmt.Sprintf("q-%d", i), issuePayload("o/r", i, "opened", map[bool]string{true: "open", false: "closed"}[i%2 == 1], "t", fmt.Sprintf("2024-01-0%dT00:00:00Z", i)))
		}
		b.post(t, "star", "q-star", []byte(`{"action":"created"}`))
		b.process(t)
		var ids []string
		cursor := ""
		for {
			p, err := webhooks.QueryDeliveries(ctx, d, webhooks.DeliveryQuery{Event: "issues", Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, di := range p.Deliveries {
				ids = append(ids, di.DeliveryID)
				if di.ProcessedAt == "" || di.Headers["X-Github-Event"] != "issues" {
					t.Errorf("delivery %+v: not processed or headers missing", di)
				}
			}
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if fmt.Sprint(ids) != "[q-7 q-6 q-5 q-4 q-3 q-2 q-1]" {
			t.Fatalf("paged deliveries = %v", ids)
		}
		var keys []string
		cursor = ""
		for {
			p, err := webhooks.QueryEvents(ctx, d, "issues", webhooks.EventQuery{Repo: "o/r", Status: "open", Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Rows {
				keys = append(keys, r.Key)
				if len(r.Object) == 0 || r.Object[0] != '{' {
					t.Errorf("row %s object %q", r.Key, r.Object)
				}
			}
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if fmt.Sprint(keys) != "[o/r/7 o/r/5 o/r/3 o/r/1]" {
			t.Fatalf("paged open issues = %v", keys)
		}
		if _, err := webhooks.QueryEvents(ctx, d, "deliveries; DROP TABLE x", webhooks.EventQuery{}); err == nil {
			t.Fatal("unknown table accepted")
		}
		if _, err := webhooks.QueryDeliveries(ctx, d, webhooks.DeliveryQuery{Cursor: "zz"}); err == nil {
			t.Fatal("bad cursor accepted")
		}
	})
}
