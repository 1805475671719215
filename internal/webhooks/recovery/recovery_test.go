package recovery_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/recovery"
)

const secret = "recovery-test-secret"

type receiver struct {
	svc *webhooks.Service
	srv *httptest.Server
	mu  sync.Mutex
	bad []string
}

func newReceiver(t *testing.T, d *db.DB) *receiver {
	t.Helper()
	if err := webhooks.Migrate(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	svc, err := webhooks.New(webhooks.Config{DB: d, Secrets: []string{secret}, RetryBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{svc: svc, srv: httptest.NewServer(svc.Handler())}
	t.Cleanup(func() {
		r.srv.Close()
		svc.Close(context.Background())
		for _, b := range r.bad {
			t.Error(b)
		}
	})
	return r
}

// send delivers a signed webhook like GitHub does and returns the status.
func (r *receiver) send(event, guid string, body []byte) int {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL, bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", guid)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.mu.Lock()
		r.bad = append(r.bad, "send: "+err.Error())
		r.mu.Unlock()
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func issueBody(guid string) []byte {
	return []byte(fmt.Sprintf(`{"action":"opened","issue":{"id":1,"number":1,"state":"open","title":%q,"updated_at":"2024-01-01T00:00:00Z"},"repository":{"full_name":"acme/app"}}`, guid))
}

func TestRedeliverRecoversMissedDeliveries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		rcv := newReceiver(t, d)
		gh := githubtest.New(t, githubtest.Options{})
		missing := map[int]bool{3: true, 9: true, 10: true, 22: true, 31: true, 40: true, 49: true}
		now := time.Now()
		// Three missed deliveries older than the window: left alone.
		for i := 0; i < 3; i++ {
			gh.AddHookDelivery(githubtest.HookDelivery{GUID: fmt.Sprintf("old-%d", i), Event: "issues", Action: "opened",
				DeliveredAt: now.Add(-100 * time.Hour), Status: "failed to connect", StatusCode: 502})
		}
		var guids []string
		for i := 0; i < 50; i++ {
			g := fmt.Sprintf("guid-%02d", i)
			guids = append(guids, g)
			hd := githubtest.HookDelivery{GUID: g, Event: "issues", Action: "opened", DeliveredAt: now.Add(time.Duration(i-60) * time.Minute),
				Status: "OK", StatusCode: 202}
			if missing[i] {
				// What GitHub shows does not matter: some say OK, some failed.
				if i%2 == 0 {
					hd.Status, hd.StatusCode = "Service Unavailable", 503
				}
			} else if code := rcv.send("issues", g, issueBody(g)); code != 202 {
				t.Fatalf("send %s: %d", g, code)
			}
			gh.AddHookDelivery(hd)
		}
		var resent sync.WaitGroup
		gh.OnRedeliver(func(hd githubtest.HookDelivery) {
			defer resent.Done()
			if code := rcv.send(hd.Event, hd.GUID, issueBody(hd.GUID)); code != 202 {
				t.Errorf("redelivery of %s answered %d", hd.GUID, code)
			}
		})
		resent.Add(len(missing))
		app, err := recovery.NewAppClient(gh.AppID, gh.AppPrivateKeyPEM, gh.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		m, err := recovery.NewMetrics(reg)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := recovery.Redeliver(ctx, d, app, recovery.RedeliverOptions{Window: 72 * time.Hour, PerPage: 20}, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Requested != 7 || sum.Missing != 7 || sum.Stored != 43 || sum.GUIDs != 50 || sum.Pages != 3 {
			t.Fatalf("first run: %+v", sum)
		}
		if r := gh.Redeliveries(); len(r) != 7 {
			t.Fatalf("redelivery requests = %d, want 7", len(r))
		}
		resent.Wait()
		if n := count(t, d, "SELECT COUNT(*) FROM deliveries"); n != 50 {
			t.Fatalf("deliveries stored = %d, want 50", n)
		}
		for _, g := range guids {
			if n := count(t, d, "SELECT COUNT(*) FROM deliveries WHERE delivery_id = ?", g); n != 1 {
				t.Errorf("%s stored %d times", g, n)
			}
		}
		sum, err = recovery.Redeliver(ctx, d, app, recovery.RedeliverOptions{}, m, nil)
		if err != nil || sum.Requested != 0 || sum.Missing != 0 || sum.Stored != 50 {
			t.Fatalf("second run: %+v, %v", sum, err)
		}
		if r := gh.Redeliveries(); len(r) != 7 {
			t.Errorf("second run requested more: %d in all", len(r))
		}
		if v := testutil.ToFloat64(m.RedeliverCounter("requested")); v != 7 {
			t.Errorf("metric requested = %v", v)
		}
	})
}

func TestRedeliverBoundedOncePerGUID(t *testing.T) {
	d := dbtest.SQLite(t)
	newReceiver(t, d)
	gh := githubtest.New(t, githubtest.Options{})
	for i := 0; i < 5; i++ {
		gh.AddHookDelivery(githubtest.HookDelivery{GUID: fmt.Sprintf("m-%d", i), Event: "push", Status: "timed out", StatusCode: 504})
	}
	app, err := recovery.NewAppClient(gh.AppID, gh.AppPrivateKeyPEM, gh.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// GitHub does not send them again (OnRedeliver unset): each GUID is still
	// requested only once, across runs, at most MaxRequests per run.
	want := []struct{ requested, already, over int }{{2, 0, 3}, {2, 2, 1}, {1, 4, 0}, {0, 5, 0}}
	for run, w := range want {
		sum, err := recovery.Redeliver(ctx, d, app, recovery.RedeliverOptions{MaxRequests: 2}, nil, nil)
		if err != nil || sum.Requested != w.requested || sum.AlreadyRequested != w.already || sum.OverLimit != w.over {
			t.Fatalf("run %d: %+v, %v; want %+v", run+1, sum, err, w)
		}
	}
	if r := gh.Redeliveries(); len(r) != 5 {
		t.Errorf("requests = %d, want 5", len(r))
	}
}

func TestReconcileStuckJobs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		rcv := newReceiver(t, d)
		gh := githubtest.New(t, githubtest.Options{})
		gh.AddRepo("acme", "app")
		gh.AddRepo("other", "lib")
		old := time.Now().Add(-5 * time.Hour).UTC()
		job := func(repo string, id int64, started time.Time) []byte {
			return []byte(fmt.Sprintf(`{"action":"in_progress","workflow_job":{"id":%d,"run_id":9,"status":"in_progress","conclusion":null,"name":"build","head_sha":"abc","created_at":%q,"started_at":%q,"completed_at":null},"repository":{"full_name":%q}}`,
				id, started.Format(time.RFC3339), started.Format(time.RFC3339), repo))
		}
		for _, j := range []struct {
			repo    string
			id      int64
			started time.Time
		}{{"acme/app", 1, old}, {"acme/app", 2, old}, {"acme/app", 3, old}, {"acme/app", 4, time.Now().UTC()}, {"other/lib", 5, old}} {
			if code := rcv.send("workflow_job", fmt.Sprintf("d-%d", j.id), job(j.repo, j.id, j.started)); code != 202 {
				t.Fatal(code)
			}
		}
		for {
			n, err := rcv.svc.ProcessPending(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		gh.SetJob("acme", "app", githubtest.Job{ID: 1, RunID: 9, Name: "build", HeadSHA: "abc", Status: "completed", Conclusion: "failure",
			CreatedAt: old, StartedAt: old, CompletedAt: old.Add(time.Hour)})
		gh.SetJob("acme", "app", githubtest.Job{ID: 2, RunID: 9, Name: "build", HeadSHA: "abc", Status: "in_progress", CreatedAt: old, StartedAt: old})
		// job 3 is gone from the API (404); job 4 is not stuck; other/lib is not configured.
		client, err := github.New(github.Config{BaseURL: gh.URL})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := recovery.Reconcile(ctx, d, client, nil, recovery.ReconcileOptions{Repos: []string{"acme/*"}, StuckAfter: 3 * time.Hour}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Stuck != 3 || sum.Checked != 2 || sum.Updated != 2 || sum.NotFound != 1 || sum.Failed != 0 {
			t.Fatalf("summary %+v", sum)
		}
		var status, concl string
		if err := d.QueryRow(ctx, "SELECT status, conclusion FROM workflow_job WHERE key = 'acme/app/1'").Scan(&status, &concl); err != nil ||
			status != "completed" || concl != "failure" {
			t.Fatalf("job 1: %s %s %v", status, concl, err)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM workflow_job WHERE status = 'in_progress'"); n != 4 {
			t.Errorf("in_progress rows = %d, want 4 (2, 3, 4, other/lib 5)", n)
		}
		gh.TakeViolations() // none expected; 404s are generic
	})
}
