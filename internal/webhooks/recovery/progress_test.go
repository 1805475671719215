package recovery_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/recovery"
)

// insertStuck writes stuck in_progress workflow_job rows acme/app/ID for the
// ids in [from, to), updated at `at` (bulk, in one transaction).
func insertStuck(t *testing.T, d *db.DB, from, to int64, at time.Time) {
	t.Helper()
	ctx := context.Background()
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ts := db.FormatTime(at)
	for id := from; id < to; id++ {
		if _, err := tx.Exec(ctx, `INSERT INTO workflow_job (key, repo, number, action, status, name, updated_at, order_key, delivery_id, received_at, object)
 VALUES (?, 'acme/app', ?, 'in_progress', 'in_progress', 'build', ?, ?, 'seed', ?, '{}')`,
			fmt.Sprintf("acme/app/%d", id), id, ts, "1|"+ts, ts); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestReconcileDeadRowsDoNotStarveNewer: 600 stuck jobs the API answers 404
// for (a deleted repository, an uninstalled App), older than 10 newer stuck
// jobs that GitHub has completed: the newer ones are reconciled within
// ceil(600/500)+1 runs, and the dead rows are then left alone (back-off)
// instead of taking every run's batch.
func TestReconcileDeadRowsDoNotStarveNewer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := webhooks.Migrate(ctx, d); err != nil {
			t.Fatal(err)
		}
		gh := githubtest.New(t, githubtest.Options{})
		gh.AddRepo("acme", "app")
		now := time.Now().UTC()
		insertStuck(t, d, 1, 601, now.Add(-48*time.Hour)) // dead: no such job in the API
		newer := now.Add(-5 * time.Hour)
		insertStuck(t, d, 1001, 1011, newer)
		for id := int64(1001); id < 1011; id++ {
			gh.SetJob("acme", "app", githubtest.Job{ID: id, RunID: 9, Name: "build", HeadSHA: "abc", Status: "completed", Conclusion: "success",
				CreatedAt: newer, StartedAt: newer, CompletedAt: newer.Add(time.Hour)})
		}
		client, err := github.New(github.Config{BaseURL: gh.URL})
		if err != nil {
			t.Fatal(err)
		}
		o := recovery.ReconcileOptions{Repos: []string{"acme/*"}, StuckAfter: 3 * time.Hour}
		const bound = 3 // ceil(600/500) + 1
		runs := 0
		for ; runs < bound && count(t, d, "SELECT COUNT(*) FROM workflow_job WHERE number > 1000 AND status = 'completed'") < 10; runs++ {
			sum, err := recovery.Reconcile(ctx, d, client, nil, o, nil, nil)
			if err != nil {
				t.Fatalf("run %d: %v", runs+1, err)
			}
			t.Logf("run %d: %+v", runs+1, sum)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM workflow_job WHERE number > 1000 AND status = 'completed'"); n != 10 {
			t.Fatalf("after %d runs %d of the 10 newer stuck jobs are reconciled; the 600 dead rows starve them", runs, n)
		}
		// The dead rows wait out their back-off: the next run asks nothing.
		gh.ResetCounts()
		sum, err := recovery.Reconcile(ctx, d, client, nil, o, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Deferred != 600 || sum.NotFound != 0 || gh.Count("GET /repos/{owner}/{repo}/actions/jobs/{job_id}") != 0 {
			t.Errorf("run after: %+v, %d job requests; want 600 deferred and no request", sum, gh.Count("GET /repos/{owner}/{repo}/actions/jobs/{job_id}"))
		}
		// Once their back-off has passed they are checked again.
		o.Now = func() time.Time { return now.Add(4 * time.Hour) }
		o.MaxJobs = 1000
		sum, err = recovery.Reconcile(ctx, d, client, nil, o, nil, nil)
		if err != nil || sum.NotFound != 600 {
			t.Errorf("after the back-off: %+v, %v; want 600 not found", sum, err)
		}
	})
}

// storeGUIDs records guids as stored deliveries (bulk, one transaction).
func storeGUIDs(t *testing.T, d *db.DB, guids []string) {
	t.Helper()
	ctx := context.Background()
	tx, err := d.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	now := db.Now()
	for _, g := range guids {
		if _, err := tx.Exec(ctx, `INSERT INTO deliveries (delivery_id, event, received_at, payload_size, processed_at, next_attempt_at)
 VALUES (?, 'issues', ?, 2, ?, ?)`, g, now, now, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestRedeliverReadsOnlyPagesNewerThanItsCursor: over a window of 20,000
// deliveries with nothing missing, the first run lists the window once and
// the runs after it read only the pages newer than the cursor it kept.
func TestRedeliverReadsOnlyPagesNewerThanItsCursor(t *testing.T) {
	d := dbtest.SQLite(t)
	ctx := context.Background()
	if err := webhooks.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	gh := githubtest.New(t, githubtest.Options{})
	now := time.Now()
	add := func(from, n int) {
		var guids []string
		for i := from; i < from+n; i++ {
			g := fmt.Sprintf("g-%05d", i)
			guids = append(guids, g)
			gh.AddHookDelivery(githubtest.HookDelivery{GUID: g, Event: "issues", Action: "opened",
				DeliveredAt: now.Add(-70 * time.Hour).Add(time.Duration(i) * 10 * time.Second), Status: "OK", StatusCode: 202})
		}
		storeGUIDs(t, d, guids)
	}
	const window = 20000
	add(0, window)
	app, err := recovery.NewAppClient(gh.AppID, gh.AppPrivateKeyPEM, gh.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := recovery.RedeliverOptions{Cursor: "redeliver"}
	const route = "GET /app/hook/deliveries"
	sum, err := recovery.Redeliver(ctx, d, app, o, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Stored != window || sum.Missing != 0 || gh.Count(route) != window/100 {
		t.Fatalf("first run: %+v, %d page requests; want %d stored over %d pages", sum, gh.Count(route), window, window/100)
	}
	t.Logf("first run: %d page requests for %d deliveries", gh.Count(route), sum.Listed)
	gh.ResetCounts()
	sum, err = recovery.Redeliver(ctx, d, app, o, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := gh.Count(route); n != 1 || sum.Listed != 0 {
		t.Fatalf("nothing new: %d page requests, %+v; want 1 page (the one reaching the cursor), nothing listed", n, sum)
	}
	// 150 new deliveries, 2 of them missing: two pages, both requested.
	add(window, 150)
	for _, g := range []string{"lost-1", "lost-2"} {
		gh.AddHookDelivery(githubtest.HookDelivery{GUID: g, Event: "push", Status: "failed to connect", StatusCode: 502})
	}
	gh.ResetCounts()
	sum, err = recovery.Redeliver(ctx, d, app, o, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := gh.Count(route); n != 2 || sum.Listed != 152 || sum.Requested != 2 || sum.Stored != 150 {
		t.Fatalf("152 new: %d page requests, %+v; want 2 pages, 2 requested", n, sum)
	}
	t.Logf("152 new deliveries: %d page requests", gh.Count(route))
}

// TestRedeliverCursorStaysBelowUnsettled: deliveries left for the next run
// (MaxRequests) or whose request failed are listed again by the next run.
func TestRedeliverCursorStaysBelowUnsettled(t *testing.T) {
	d := dbtest.SQLite(t)
	ctx := context.Background()
	if err := webhooks.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	gh := githubtest.New(t, githubtest.Options{})
	for i := 0; i < 5; i++ {
		gh.AddHookDelivery(githubtest.HookDelivery{GUID: fmt.Sprintf("m-%d", i), Event: "push", Status: "timed out", StatusCode: 504})
	}
	storeGUIDs(t, d, []string{"s-0"})
	gh.AddHookDelivery(githubtest.HookDelivery{GUID: "s-0", Event: "issues", Status: "OK", StatusCode: 202})
	app, err := recovery.NewAppClient(gh.AppID, gh.AppPrivateKeyPEM, gh.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := recovery.RedeliverOptions{Cursor: "r", MaxRequests: 2, PerPage: 2}
	want := []struct{ requested, over int }{{2, 3}, {2, 1}, {1, 0}, {0, 0}}
	for run, w := range want {
		sum, err := recovery.Redeliver(ctx, d, app, o, nil, nil)
		if err != nil || sum.Requested != w.requested || sum.OverLimit != w.over {
			t.Fatalf("run %d: %+v, %v; want %+v", run+1, sum, err, w)
		}
	}
	if r := gh.Redeliveries(); len(r) != 5 {
		t.Errorf("requests = %d, want 5 (each missing GUID once)", len(r))
	}
}

// TestRedeliverWindowCappedByRetention: a delivery older than the retention
// (whose record ghsync may have pruned) is not asked for again.
func TestRedeliverWindowCappedByRetention(t *testing.T) {
	d := dbtest.SQLite(t)
	ctx := context.Background()
	if err := webhooks.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	gh := githubtest.New(t, githubtest.Options{})
	now := time.Now()
	gh.AddHookDelivery(githubtest.HookDelivery{GUID: "pruned", Event: "issues", DeliveredAt: now.Add(-30 * time.Hour), Status: "OK", StatusCode: 202})
	gh.AddHookDelivery(githubtest.HookDelivery{GUID: "lost", Event: "issues", DeliveredAt: now.Add(-2 * time.Hour), Status: "failed", StatusCode: 502})
	app, err := recovery.NewAppClient(gh.AppID, gh.AppPrivateKeyPEM, gh.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := recovery.Redeliver(ctx, d, app, recovery.RedeliverOptions{Window: 72 * time.Hour, Retention: 24 * time.Hour}, nil, nil)
	if err != nil || sum.Requested != 1 || len(sum.RequestedGUIDs) != 1 || sum.RequestedGUIDs[0] != "lost" {
		t.Fatalf("%+v, %v; want only the delivery within the retention requested", sum, err)
	}
}
