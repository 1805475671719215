package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/schedule"
)

// fakeRunner records runs and checks that a job never runs twice at once.
type fakeRunner struct {
	delay time.Duration
	fail  int // fail the first fail runs

	mu       sync.Mutex
	running  map[string]int
	overlaps int
	calls    int
	done     int
}

func (f *fakeRunner) Run(ctx context.Context, name string, ro jobs.RunOptions) (*jobs.Result, error) {
	f.mu.Lock()
	if f.running == nil {
		f.running = map[string]int{}
	}
	f.running[name]++
	if f.running[name] > 1 {
		f.overlaps++
	}
	f.calls++
	n := f.calls
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running[name]--
		f.done++
		f.mu.Unlock()
	}()
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if n <= f.fail {
		return &jobs.Result{Job: name, Summary: map[string]any{"n": n}}, fmt.Errorf("injected failure %d", n)
	}
	return &jobs.Result{Job: name, Summary: map[string]any{"n": n, "dry_run": ro.DryRun}}, nil
}

func (f *fakeRunner) stats() (calls, overlaps int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.overlaps
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("GHSYNC_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func mustSchedule(t testing.TB, name, expr string) schedule.Job {
	t.Helper()
	s, err := schedule.Parse(expr, "")
	if err != nil {
		t.Fatal(err)
	}
	return schedule.Job{Name: name, Schedule: s}
}

// eachDB runs fn on a fresh SQLite database and on a fresh PostgreSQL schema
// (skipped loudly without GHSYNC_TEST_POSTGRES_URL).
func eachDB(t *testing.T, fn func(t *testing.T, url string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, dbtest.SQLiteURL(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, dbtest.PostgresURL(t)) })
}

func openDB(t testing.TB, url string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func startScheduler(t testing.TB, cfg Config) *Scheduler {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runner != nil {
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Logf("stop: %v", err)
		}
	})
	return s
}

func allRuns(t testing.TB, d *db.DB) []Run {
	t.Helper()
	runs, err := Runs(context.Background(), d, RunQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestScheduleTicksRunOnce(t *testing.T) {
	t.Parallel() // waits on whole-second ticks; own database and registry
	eachDB(t, func(t *testing.T, url string) {
		d := openDB(t, url)
		r := &fakeRunner{delay: 50 * time.Millisecond}
		reg := prometheus.NewRegistry()
		startScheduler(t, Config{DB: d, DatabaseURL: url, Runner: r, Registerer: reg, ReplicaID: "r1",
			Jobs: []schedule.Job{mustSchedule(t, "tick", "@every 1s")}, PollInterval: 200 * time.Millisecond})
		waitFor(t, 20*time.Second, "4 finished runs", func() bool {
			n := 0
			for _, run := range allRuns(t, d) {
				if run.Outcome == OutcomeOK {
					n++
				}
			}
			return n >= 4
		})
		seen := map[time.Time]int{}
		for _, run := range allRuns(t, d) {
			if run.Outcome != OutcomeOK && run.Outcome != OutcomeRunning {
				t.Errorf("unexpected run %+v", run)
			}
			if run.Replica != "r1" || run.Job != "tick" || run.Attempt != 1 {
				t.Errorf("run %+v: want replica r1, job tick, attempt 1", run)
			}
			if run.ScheduledAt.Truncate(time.Second) != run.ScheduledAt {
				t.Errorf("tick %s is not on a whole second", run.ScheduledAt)
			}
			if run.Outcome == OutcomeOK && (string(run.Summary) == "" || run.FinishedAt.Before(run.StartedAt)) {
				t.Errorf("finished run without summary or end: %+v", run)
			}
			seen[run.ScheduledAt]++
		}
		for tick, n := range seen {
			if n != 1 {
				t.Errorf("tick %s ran %d times", tick, n)
			}
		}
		if _, overlaps := r.stats(); overlaps != 0 {
			t.Errorf("%d overlapping runs", overlaps)
		}
		if v := testutil.ToFloat64(newMetricsFrom(t, reg).runs.WithLabelValues("tick", OutcomeOK)); v < 4 {
			t.Errorf("ghsync_job_runs_total{ok} = %v, want >= 4", v)
		}
	})
}

// newMetricsFrom returns the metrics already registered in reg.
func newMetricsFrom(t testing.TB, reg *prometheus.Registry) *metrics {
	m, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLongRunSkipsTicks(t *testing.T) {
	t.Parallel() // waits on whole-second ticks; own database and registry
	eachDB(t, func(t *testing.T, url string) {
		d := openDB(t, url)
		r := &fakeRunner{delay: 2500 * time.Millisecond}
		reg := prometheus.NewRegistry()
		startScheduler(t, Config{DB: d, DatabaseURL: url, Runner: r, Registerer: reg, ReplicaID: "r1",
			Jobs: []schedule.Job{mustSchedule(t, "slow", "@every 1s")}, PollInterval: 200 * time.Millisecond})
		waitFor(t, 30*time.Second, "2 finished runs and 2 skipped ticks", func() bool {
			var ok, skipped int
			for _, run := range allRuns(t, d) {
				switch run.Outcome {
				case OutcomeOK:
					ok++
				case OutcomeSkipped:
					skipped++
				}
			}
			return ok >= 2 && skipped >= 2
		})
		if calls, overlaps := r.stats(); overlaps != 0 {
			t.Errorf("%d of %d runs overlapped", overlaps, calls)
		}
		skipped := testutil.ToFloat64(newMetricsFrom(t, reg).skipped.WithLabelValues("slow"))
		var rows int
		for _, run := range allRuns(t, d) {
			if run.Outcome == OutcomeSkipped {
				rows++
				if !skippedInWords.MatchString(run.Error) {
					t.Errorf("skipped run without a reason in words: %+v", run)
				}
			}
		}
		if skipped < 2 || int(skipped) < rows-1 { // a tick may be mid-record while we read
			t.Errorf("ghsync_schedule_skipped_total = %v, history has %d skipped", skipped, rows)
		}
		assertNoOverlap(t, allRuns(t, d))
	})
}

// skippedInWords is the reason of a tick skipped by TestLongRunSkipsTicks.
var skippedInWords = regexp.MustCompile(`^the previous run \((started \d\d:\d\d:\d\d UTC, \d+s ago, on this replica r1|on this replica r1, just started)\) is still going$`)

// assertNoOverlap checks that no two finished runs of a job overlap in time.
func assertNoOverlap(t testing.TB, runs []Run) {
	t.Helper()
	byJob := map[string][]Run{}
	for _, r := range runs {
		if r.Outcome == OutcomeOK || r.Outcome == OutcomeFailed {
			byJob[r.Job] = append(byJob[r.Job], r)
		}
	}
	for job, rs := range byJob {
		for i := range rs {
			for j := i + 1; j < len(rs); j++ {
				a, b := rs[i], rs[j]
				if a.StartedAt.Before(b.FinishedAt) && b.StartedAt.Before(a.FinishedAt) {
					t.Errorf("%s: runs %d (%s–%s) and %d (%s–%s) overlap", job, a.ID, a.StartedAt, a.FinishedAt, b.ID, b.StartedAt, b.FinishedAt)
				}
			}
		}
	}
}

func TestEnqueueRetriesFailures(t *testing.T) {
	t.Parallel() // waits on whole-second ticks; own database and registry
	eachDB(t, func(t *testing.T, url string) {
		d := openDB(t, url)
		// An enqueue-only scheduler (what `ghsync run --via-queue` uses).
		q, err := New(context.Background(), Config{DB: d, DatabaseURL: url, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		if err := q.Start(context.Background()); err == nil {
			t.Error("Start without a Runner succeeded")
		}
		id, err := q.Enqueue(context.Background(), "manual", true)
		if err != nil || id <= 0 {
			t.Fatalf("Enqueue = %d, %v", id, err)
		}
		r := &fakeRunner{fail: 1}
		startScheduler(t, Config{DB: d, DatabaseURL: url, Runner: r, ReplicaID: "w", PollInterval: 200 * time.Millisecond})
		waitFor(t, 30*time.Second, "the retried run to succeed", func() bool {
			for _, run := range allRuns(t, d) {
				if run.Outcome == OutcomeOK {
					return true
				}
			}
			return false
		})
		runs := allRuns(t, d)
		if len(runs) != 2 {
			t.Fatalf("runs = %+v, want a failed attempt and a successful one", runs)
		}
		failed, ok := runs[1], runs[0]
		if failed.Outcome != OutcomeFailed || failed.Attempt != 1 || failed.Error != "injected failure 1" || failed.QueueJobID != id {
			t.Errorf("first attempt = %+v", failed)
		}
		var sum struct {
			N      int  `json:"n"`
			DryRun bool `json:"dry_run"`
		}
		if err := json.Unmarshal(ok.Summary, &sum); err != nil {
			t.Errorf("summary %q: %v", ok.Summary, err)
		}
		if ok.Outcome != OutcomeOK || ok.Attempt != 2 || !ok.DryRun || ok.QueueJobID != id || sum.N != 2 || !sum.DryRun {
			t.Errorf("second attempt = %+v (summary %s)", ok, ok.Summary)
		}
		last, err := LastRuns(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		if l := last["manual"]; l == nil || l.ID != ok.ID {
			t.Errorf("LastRuns = %+v, want run %d", last, ok.ID)
		}
	})
}

func TestUsageErrorsAreNotRetried(t *testing.T) {
	t.Parallel() // waits on whole-second ticks; own database and registry
	url := dbtest.SQLiteURL(t)
	d := openDB(t, url)
	r := runnerFunc(func(ctx context.Context, name string, ro jobs.RunOptions) (*jobs.Result, error) {
		return nil, fmt.Errorf("%w: no job named %q", jobs.ErrUsage, name)
	})
	s := startScheduler(t, Config{DB: d, Runner: r, PollInterval: 200 * time.Millisecond})
	if _, err := s.Enqueue(context.Background(), "nope", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the failed run", func() bool { return len(allRuns(t, d)) == 1 && allRuns(t, d)[0].Outcome == OutcomeFailed })
	time.Sleep(2 * time.Second)
	if runs := allRuns(t, d); len(runs) != 1 {
		t.Errorf("a usage error was retried: %+v", runs)
	}
}

type runnerFunc func(ctx context.Context, name string, ro jobs.RunOptions) (*jobs.Result, error)

func (f runnerFunc) Run(ctx context.Context, name string, ro jobs.RunOptions) (*jobs.Result, error) {
	return f(ctx, name, ro)
}

func TestConfigValidation(t *testing.T) {
	d := openDB(t, dbtest.SQLiteURL(t))
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "Config.DB is required"},
		{Config{DB: d, JobTimeout: time.Hour, RescueAfter: time.Minute}, "RescueAfter (1m0s) must be at least JobTimeout"},
		{Config{DB: d, LockTTL: time.Millisecond}, "LockTTL"},
		{Config{DB: d, Jobs: []schedule.Job{{Name: "x"}}}, `job "x" has no schedule`},
		{Config{DB: d, Jobs: []schedule.Job{mustSchedule(t, "x", "@daily"), mustSchedule(t, "x", "@hourly")}}, `job "x" is listed twice`},
	} {
		_, err := New(context.Background(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}
