package ui_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/scheduler"
	"github.com/ghsync/ghsync/internal/webhooks"
)

// now is the fixed clock of the handler tests.
var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// seedRun inserts one run-history row and returns its id.
func seedRun(t testing.TB, d *db.DB, r scheduler.Run) int64 {
	t.Helper()
	ctx := context.Background()
	if err := scheduler.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	ft := func(x time.Time) string {
		if x.IsZero() {
			return ""
		}
		return db.FormatTime(x)
	}
	var summary any
	if len(r.Summary) > 0 {
		summary = string(r.Summary)
	}
	dry := 0
	if r.DryRun {
		dry = 1
	}
	var id int64
	err := d.W.QueryRowContext(ctx, d.Rebind(`INSERT INTO ghsync_runs
		(job, river_job_id, attempt, dry_run, scheduled_at, started_at, finished_at, outcome, summary, error, replica)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		r.Job, r.QueueJobID, r.Attempt, dry, ft(r.ScheduledAt), ft(r.StartedAt), ft(r.FinishedAt), r.Outcome,
		summary, r.Error, r.Replica).Scan(&id)
	if err != nil {
		t.Fatalf("seed run: %v", err)
	}
	return id
}

// seedDeliveries stores deliveries through the real webhook receiver
// (unsigned, for the test) and processes those before the last; the last one
// is left pending.
func seedDeliveries(t testing.TB, d *db.DB, deliveries ...[3]string) {
	t.Helper()
	ctx := context.Background()
	if err := webhooks.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	svc, err := webhooks.New(webhooks.Config{DB: d, InsecureNoSignature: true})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(ctx)
	for i, dv := range deliveries {
		if i == len(deliveries)-1 {
			for {
				n, err := svc.ProcessPending(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
			}
		}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(dv[2])))
		req.Header.Set("X-GitHub-Event", dv[0])
		req.Header.Set("X-GitHub-Delivery", dv[1])
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		svc.Handler().ServeHTTP(rec, req)
		if rec.Code/100 != 2 {
			t.Fatalf("post delivery %s: %d %s", dv[1], rec.Code, rec.Body)
		}
	}
}

// get fetches path from h and returns the status and body.
func get(t testing.TB, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

// getRec fetches path from h and returns the recorded response.
func getRec(t testing.TB, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// mustContain fails unless body contains every want.
func mustContain(t testing.TB, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s does not contain %q", what, w)
		}
	}
}

// mustNotContain fails if body contains any of bad.
func mustNotContain(t testing.TB, what, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("%s contains %q", what, b)
		}
	}
}

// testConfig is a configuration with a scheduled repo job, a manual
// statuses job, and secrets that must never appear.
func testConfig(t testing.TB) *config.Config {
	t.Helper()
	y := `
github:
  token: ghp_supersecrettoken123
database: postgres://ghsync:dbpassw0rd@db.example/ghsync
webhooks:
  secrets: [whsec-very-secret]
jobs:
  - name: site
    kind: repo
    source: github:acme/site@main
    dest: s3://bucket/site?endpoint=https://minio.local&access_key=AKIAXXXX
    schedule: rate(5 minutes)
  - name: hud
    kind: statuses
    repo: acme/app
    branches: [main]
    dest: file:///srv/hud
`
	c, err := jobs.ParseConfig([]byte(y), "test.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
