package scheduler

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
)

func migrated(t *testing.T, d *db.DB) {
	t.Helper()
	if err := Migrate(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

func TestPruneKeepsNewestRowsAndAge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		migrated(t, d)
		ctx := context.Background()
		h := &history{d: d, keepRuns: 3, keepFor: 24 * time.Hour}
		now := time.Now()
		var ids []int64
		for i := 0; i < 6; i++ {
			started := now.Add(time.Duration(i-6) * time.Minute)
			if i == 0 {
				started = now.Add(-48 * time.Hour) // too old
			}
			id, err := h.start(ctx, &Run{Job: "a", StartedAt: started, QueueJobID: int64(i + 1), Attempt: 1})
			if err != nil {
				t.Fatal(err)
			}
			if i < 5 { // the newest stays running
				if err := h.finish(ctx, id, started.Add(time.Second), OutcomeOK, []byte(`{"n":1}`), ""); err != nil {
					t.Fatal(err)
				}
			}
			ids = append(ids, id)
		}
		if _, err := h.start(ctx, &Run{Job: "b", StartedAt: now.Add(-10 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if err := h.prune(ctx, "a", now); err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range allRuns(t, d) {
			if r.Job == "a" {
				got = append(got, r.ID)
			}
		}
		// Kept: the 3 newest (ids[3..5]); pruned: the old one and those beyond 3.
		want := []int64{ids[5], ids[4], ids[3]}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Errorf("kept %v, want %v", got, want)
		}
		if runs, _ := Runs(ctx, d, RunQuery{Job: "b"}); len(runs) != 1 {
			t.Errorf("another job's history was pruned: %+v", runs)
		}
	})
}

func TestLocks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		migrated(t, d)
		ctx := context.Background()
		l := &locks{d: d, ttl: 2 * time.Second, log: testLogger(t)}
		now := time.Now()
		if ok, _, err := l.acquire(ctx, "a", "q1/a1/r1", "q1/", now); err != nil || !ok {
			t.Fatalf("first acquire = %v, %v", ok, err)
		}
		ok, cur, err := l.acquire(ctx, "a", "q2/a1/r2", "q2/", now)
		if err != nil || ok || cur != "q1/a1/r1" {
			t.Fatalf("second acquire = %v %q %v, want refused naming the holder", ok, cur, err)
		}
		if ok, _, _ := l.acquire(ctx, "a", "q12/a1/r2", "q12/", now); ok {
			t.Fatal("q12 took over q1's lease (prefix must end at the id)")
		}
		if ok, _, _ := l.acquire(ctx, "b", "q2/a1/r2", "q2/", now); !ok {
			t.Fatal("another job's lease was refused")
		}
		// A retry of the same queue job takes over its dead attempt's lease.
		if ok, _, _ := l.acquire(ctx, "a", "q1/a2/r3", "q1/", now); !ok {
			t.Fatal("retry could not take over")
		}
		// An expired lease is free.
		if ok, _, _ := l.acquire(ctx, "a", "q3/a1/r1", "q3/", now.Add(3*time.Second)); !ok {
			t.Fatal("expired lease not taken")
		}
		if ok, err := l.renew(ctx, "a", "q1/a2/r3", now); ok || err != nil {
			t.Fatalf("renew by the old holder = %v, %v", ok, err)
		}
		if err := l.release(ctx, "a", "q1/a2/r3"); err != nil { // not the holder: no effect
			t.Fatal(err)
		}
		if ok, _, _ := l.acquire(ctx, "a", "q4/a1/r1", "q4/", now.Add(3*time.Second)); ok {
			t.Fatal("a release by a former holder freed the lease")
		}
		if err := l.release(ctx, "a", "q3/a1/r1"); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := l.acquire(ctx, "a", "q4/a1/r1", "q4/", now); !ok {
			t.Fatal("released lease not free")
		}
	})
}

func TestKeepAliveCancelsWhenLeaseIsLost(t *testing.T) {
	d := dbtest.SQLite(t)
	migrated(t, d)
	ctx := context.Background()
	l := &locks{d: d, ttl: 400 * time.Millisecond, log: testLogger(t)}
	if ok, _, err := l.acquire(ctx, "a", "q1/a1/r1", "q1/", time.Now()); !ok || err != nil {
		t.Fatal(ok, err)
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	stop := l.keepAlive(runCtx, "a", "q1/a1/r1", cancel)
	defer stop()
	time.Sleep(time.Second) // renewals keep it
	if runCtx.Err() != nil {
		t.Fatalf("cancelled while the lease was held: %v", context.Cause(runCtx))
	}
	if _, err := d.Exec(ctx, `UPDATE ghsync_job_locks SET holder = 'someone-else'`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-runCtx.Done():
		if !errors.Is(context.Cause(runCtx), errLockLost) {
			t.Errorf("cause = %v", context.Cause(runCtx))
		}
	case <-time.After(2 * time.Second):
		t.Fatal("run not cancelled after losing its lease")
	}
}

func TestRunsHandler(t *testing.T) {
	d := dbtest.SQLite(t)
	migrated(t, d)
	h := &history{d: d, keepRuns: 10, keepFor: time.Hour}
	for _, job := range []string{"a", "b", "a"} {
		if _, err := h.start(context.Background(), &Run{Job: job, StartedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(RunsHandler(d, nil))
	defer srv.Close()
	for q, want := range map[string]string{"?job=a": `"job": "a"`, "?limit=1": `"id": 3`, "?job=zzz": `"runs": []`} {
		resp, err := http.Get(srv.URL + q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) || (q == "?job=a" && strings.Contains(string(b), `"job": "b"`)) {
			t.Errorf("GET %s = %d %s, want %s", q, resp.StatusCode, b, want)
		}
	}
	resp, err := http.Get(srv.URL + "?limit=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("bad limit: %d", resp.StatusCode)
	}
}
