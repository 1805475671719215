//go:build integration

package scheduler_test

// Fleet tests: several `ghsync serve` processes (the built binary) sharing
// one PostgreSQL schema. Run with
//
//	GHSYNC_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test -tags integration -run Fleet -v ./internal/scheduler/

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/testkit"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/scheduler"
)

// buildBinary builds ./cmd/ghsync once per test process.
func buildBinary(t *testing.T) string { return testkit.Ghsync(t) }

type replica struct {
	id   string
	addr string
	cmd  *exec.Cmd
	log  string
	done chan error
}

// fleet starts n serve replicas of bin on url with cfg and extra flags.
func fleet(t *testing.T, bin, cfg, url string, n int, extra ...string) []*replica {
	t.Helper()
	var out []*replica
	for i := 1; i <= n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		r := &replica{id: fmt.Sprintf("r%d", i), addr: addr, log: filepath.Join(t.TempDir(), fmt.Sprintf("r%d.log", i)), done: make(chan error, 1)}
		f, err := os.Create(r.log)
		if err != nil {
			t.Fatal(err)
		}
		args := append([]string{"serve", "--config", cfg, "--database", url, "--addr", addr, "--replica-id", r.id, "--log-format", "json"}, extra...)
		r.cmd = exec.Command(bin, args...)
		r.cmd.Stdout, r.cmd.Stderr = f, f
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { r.done <- r.cmd.Wait(); f.Close() }()
		out = append(out, r)
	}
	t.Cleanup(func() {
		for _, r := range out {
			r.cmd.Process.Kill()
		}
		if t.Failed() {
			for _, r := range out {
				b, _ := os.ReadFile(r.log)
				t.Logf("---- %s log (last 4 KB):\n%s", r.id, tail(string(b), 4096))
			}
		}
	})
	for _, r := range out {
		waitHTTP(t, "http://"+r.addr+"/healthz", 30*time.Second)
	}
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func waitHTTP(t *testing.T, url string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not up after %s: %v", url, d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGTERM to every live replica and waits for it.
func stop(t *testing.T, rs []*replica) {
	for _, r := range rs {
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, r := range rs {
		select {
		case <-r.done:
		case <-time.After(40 * time.Second):
			t.Errorf("%s did not stop within 40s", r.id)
		}
	}
}

func writeConfig(t *testing.T, jobs string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	for i := 0; i < 3; i++ {
		os.WriteFile(filepath.Join(src, fmt.Sprintf("f%d.txt", i)), []byte(strings.Repeat("x", 100*i)), 0o644)
	}
	cfg := filepath.Join(dir, "ghsync.yaml")
	body := "webhooks:\n  insecure_no_signature: true\njobs:\n" + strings.NewReplacer("SRC", src, "OUT", filepath.Join(dir, "out")).Replace(jobs)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func history(t *testing.T, url string) []scheduler.Run {
	t.Helper()
	d, err := db.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	runs, err := scheduler.Runs(context.Background(), d, scheduler.RunQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// TestFleetEachTickRunsOnce: three replicas, one job every 2 seconds for 60
// seconds; every tick runs exactly once across the fleet.
func TestFleetEachTickRunsOnce(t *testing.T) {
	url := dbtest.PostgresURL(t)
	bin := buildBinary(t)
	cfg := writeConfig(t, `  - name: tick
    kind: repo
    source: dir:SRC
    dest: file://OUT/tick/
    schedule: "@every 2s"
`)
	rs := fleet(t, bin, cfg, url, 3)
	start := time.Now()
	time.Sleep(60 * time.Second)
	stop(t, rs)
	runs := history(t, url)
	perTick := map[time.Time][]scheduler.Run{}
	perReplica := map[string]int{}
	outcomes := map[string]int{}
	for _, r := range runs {
		outcomes[r.Outcome]++
		if r.Job != "tick" {
			t.Errorf("unexpected run %+v", r)
		}
		perTick[r.ScheduledAt] = append(perTick[r.ScheduledAt], r)
		perReplica[r.Replica]++
	}
	var ticks []time.Time
	for tk, rr := range perTick {
		ticks = append(ticks, tk)
		if len(rr) != 1 || rr[0].Outcome != scheduler.OutcomeOK {
			t.Errorf("tick %s: %d runs %+v, want exactly one ok run", tk.Format(time.RFC3339), len(rr), rr)
		}
	}
	sort.Slice(ticks, func(i, j int) bool { return ticks[i].Before(ticks[j]) })
	missing := 0
	for i := 1; i < len(ticks); i++ {
		if gap := ticks[i].Sub(ticks[i-1]); gap != 2*time.Second {
			missing += int(gap/(2*time.Second)) - 1
		}
	}
	t.Logf("FIGURES fleet: %.0fs, %d ticks run, %d runs, outcomes %v, per replica %v, missing ticks between first and last %d",
		time.Since(start).Seconds(), len(ticks), len(runs), outcomes, perReplica, missing)
	if len(ticks) < 27 {
		t.Errorf("%d ticks ran in 60s, want about 30", len(ticks))
	}
	if missing > 0 {
		t.Errorf("%d ticks missing between the first and the last", missing)
	}
}

// TestFleetKilledReplicaRunIsRetried: a long run's replica is killed with
// SIGKILL; River's rescuer retries the run on another replica.
func TestFleetKilledReplicaRunIsRetried(t *testing.T) {
	url := dbtest.PostgresURL(t)
	bin := buildBinary(t)
	cfg := writeConfig(t, `  - name: long
    kind: repo
    source: dir:SRC
    dest: file://OUT/long/
`)
	rs := fleet(t, bin, cfg, url, 3, "--test-hold", "15s", "--job-timeout", "20s", "--rescue-after", "20s", "--lock-ttl", "4s")
	out, err := exec.Command(bin, "run", "long", "--via-queue", "--config", cfg, "--database", url).CombinedOutput()
	if err != nil {
		t.Fatalf("run --via-queue: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`queued long as queue job (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("run --via-queue printed %q", out)
	}
	qid, _ := strconv.ParseInt(string(m[1]), 10, 64)
	var victim *replica
	deadline := time.Now().Add(30 * time.Second)
	for victim == nil {
		for _, r := range history(t, url) {
			if r.QueueJobID == qid && r.Outcome == scheduler.OutcomeRunning {
				for _, rep := range rs {
					if rep.id == r.Replica {
						victim = rep
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the queued run did not start within 30s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	killedAt := time.Now()
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.done
	var retried *scheduler.Run
	deadline = time.Now().Add(150 * time.Second)
	for retried == nil {
		for _, r := range history(t, url) {
			if r.QueueJobID == qid && r.Outcome == scheduler.OutcomeOK {
				retried = &r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run was not retried within 150s of the kill: %+v", history(t, url))
		}
		time.Sleep(500 * time.Millisecond)
	}
	var live []*replica
	for _, r := range rs {
		if r != victim {
			live = append(live, r)
		}
	}
	stop(t, live)
	runs := history(t, url)
	var abandoned int
	for _, r := range runs {
		if r.QueueJobID == qid && r.Replica == victim.id && r.Outcome == scheduler.OutcomeAbandoned {
			abandoned++
		}
	}
	if retried.Replica == victim.id || retried.Attempt < 2 || abandoned != 1 {
		t.Errorf("retried run %+v (abandoned rows of %s: %d); history %+v", retried, victim.id, abandoned, runs)
	}
	t.Logf("FIGURES failover: killed %s %.1fs into the run; retried on %s as attempt %d, finished %.1fs after the kill",
		victim.id, 2.0, retried.Replica, retried.Attempt, retried.FinishedAt.Sub(killedAt).Seconds())
}

// TestFleetNoOverlapAndSkippedTicksCounted: a job longer than its interval,
// on three replicas, never runs twice at once; skipped ticks are in the
// history and in /metrics.
func TestFleetNoOverlapAndSkippedTicksCounted(t *testing.T) {
	url := dbtest.PostgresURL(t)
	bin := buildBinary(t)
	cfg := writeConfig(t, `  - name: slow
    kind: repo
    source: dir:SRC
    dest: file://OUT/slow/
    schedule: "@every 1s"
`)
	rs := fleet(t, bin, cfg, url, 3, "--test-hold", "3500ms")
	time.Sleep(20 * time.Second)
	var metricSkipped float64
	re := regexp.MustCompile(`(?m)^ghsync_schedule_skipped_total\{job="slow"\} (\d+)`)
	for _, r := range rs {
		resp, err := http.Get("http://" + r.addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := re.FindSubmatch(b); m != nil {
			v, _ := strconv.ParseFloat(string(m[1]), 64)
			metricSkipped += v
		}
	}
	stop(t, rs)
	runs := history(t, url)
	var ok, skipped int
	for _, r := range runs {
		switch r.Outcome {
		case scheduler.OutcomeOK, scheduler.OutcomeFailed:
			ok++
		case scheduler.OutcomeSkipped:
			skipped++
		}
	}
	// No two runs overlap.
	var finished []scheduler.Run
	for _, r := range runs {
		if r.Outcome == scheduler.OutcomeOK || r.Outcome == scheduler.OutcomeFailed {
			finished = append(finished, r)
		}
	}
	sort.Slice(finished, func(i, j int) bool { return finished[i].StartedAt.Before(finished[j].StartedAt) })
	for i := 1; i < len(finished); i++ {
		if finished[i].StartedAt.Before(finished[i-1].FinishedAt) {
			t.Errorf("runs overlap: %+v and %+v", finished[i-1], finished[i])
		}
	}
	t.Logf("FIGURES overlap: 20s of @every 1s with 3.5s runs on 3 replicas: %d runs, %d skipped ticks in history, %v skipped in /metrics (sum over replicas, read before shutdown)",
		ok, skipped, metricSkipped)
	if ok < 3 || skipped < 8 || metricSkipped < 8 {
		t.Errorf("runs %d, skipped %d, metric %v", ok, skipped, metricSkipped)
	}
	if int(metricSkipped) > skipped {
		t.Errorf("metric %v counts more skips than the history's %d", metricSkipped, skipped)
	}
	// Every scheduled tick is accounted for exactly once.
	seen := map[time.Time]int{}
	for _, r := range runs {
		seen[r.ScheduledAt]++
	}
	for tk, n := range seen {
		if n != 1 {
			t.Errorf("tick %s recorded %d times", tk, n)
		}
	}
}
