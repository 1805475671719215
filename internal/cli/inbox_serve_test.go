package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

type inboxRun struct {
	ID      int64  `json:"id"`
	Job     string `json:"job"`
	Outcome string `json:"outcome"`
	Summary struct {
		Processed []json.RawMessage `json:"processed"`
		Unchanged int               `json:"unchanged"`
	} `json:"summary"`
}

// inboxRuns reads serve's run history of job, newest first.
func inboxRuns(addr, job string) []inboxRun {
	var out struct {
		Runs []inboxRun `json:"runs"`
	}
	resp, err := http.Get("http://" + addr + "/api/runs?limit=200&job=" + job)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(&out)
	return out.Runs
}

// TestServePollsInbox: `serve` polls an inbox job's folder-bucket on its
// poll interval; a dropped set is processed within two intervals; after a
// restart the set is not processed again.
func TestServePollsInbox(t *testing.T) {
	t.Parallel() // sleeps on poll intervals and retry pauses; touches no process-wide state
	dir := t.TempDir()
	const poll = time.Second
	cfg := filepath.Join(dir, "ghsync.yaml")
	os.WriteFile(cfg, []byte(`database: sqlite://`+dir+`/data/ghsync.db
webhooks:
  insecure_no_signature: true
jobs:
  - name: uploads
    kind: inbox
    watch: file://`+dir+`/uploads/
    final: file://`+dir+`/final/
    poll: 1s
`), 0o644)
	os.MkdirAll(filepath.Join(dir, "uploads"), 0o755)
	serve := func(t *testing.T, body func(addr string)) {
		t.Helper()
		addr := freeAddr(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		var serveErr string
		go func() {
			code, _, errs := runCLI(ctx, "serve", "--config", cfg, "--addr", addr, "--replica-id", "only")
			serveErr = errs
			done <- code
		}()
		body(addr)
		cancel()
		if code := <-done; code != 0 {
			t.Fatalf("serve exit %d:\n%s", code, serveErr)
		}
	}
	waitRuns := func(t *testing.T, addr string, n int, after int64) []inboxRun {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			var mine []inboxRun
			for _, r := range inboxRuns(addr, "uploads") {
				if r.ID > after && r.Outcome != "" && r.Outcome != "running" {
					mine = append(mine, r)
				}
			}
			if len(mine) >= n {
				return mine
			}
			if time.Now().After(deadline) {
				t.Fatalf("fewer than %d finished polls after 30s: %+v", n, mine)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	set := filepath.Join(dir, "uploads", "E07000223", "2026-05-07", "1700000000")
	promoted := filepath.Join(dir, "final", "E07000223", "2026-05-07", "1700000000", "dc_stations.csv")
	var last int64
	serve(t, func(addr string) {
		first := waitRuns(t, addr, 1, 0) // serve is polling
		os.MkdirAll(set, 0o755)
		for _, f := range []string{"dc_districts.csv", "dc_stations.csv"} {
			b, _ := os.ReadFile(filepath.Join("..", "inbox", "testdata", "files", f))
			os.WriteFile(filepath.Join(set, f), b, 0o644)
		}
		dropped := time.Now()
		for {
			if _, err := os.Stat(promoted); err == nil {
				break
			}
			if time.Since(dropped) > 2*poll+time.Second {
				t.Fatalf("set not processed %s after it was dropped (poll %s); runs %+v", time.Since(dropped), poll, inboxRuns(addr, "uploads"))
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("processed %s after the drop (poll %s)", time.Since(dropped).Round(10*time.Millisecond), poll)
		runs := waitRuns(t, addr, 1, first[0].ID)
		last = runs[0].ID
	})
	serve(t, func(addr string) {
		for _, r := range waitRuns(t, addr, 2, last) {
			if len(r.Summary.Processed) != 0 || r.Summary.Unchanged != 1 {
				t.Errorf("after the restart, poll %d processed %d sets (%d unchanged); want 0 and 1", r.ID, len(r.Summary.Processed), r.Summary.Unchanged)
			}
		}
	})
}
