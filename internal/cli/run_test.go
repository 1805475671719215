package cli

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/testkit"
)

// syncBuffer collects a child process's output.
type syncBuffer = testkit.SyncBuffer

func runCLI(ctx context.Context, args ...string) (int, string, string) {
	var out, errb syncBuffer
	code := Main(ctx, args, Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

func TestBadScheduleIsAConfigError(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "ghsync.yaml")
	os.WriteFile(cfg, []byte("jobs:\n  - name: site\n    kind: repo\n    source: dir:.\n    dest: file:///tmp/x/\n    schedule: cron(0 0 32 * ? *)\n"), 0o644)
	for _, verb := range [][]string{{"jobs"}, {"run", "site"}, {"serve"}} {
		code, _, errs := runCLI(context.Background(), append(verb, "--config", cfg)...)
		want := `ghsync.yaml:6:5: jobs[0].schedule: cron field 3 (day-of-month) "32": out of range 1-31`
		if code != ExitUsage || !strings.Contains(errs, want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", verb[0], code, errs, want)
		}
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeRunsSchedulesOnSQLite runs `ghsync serve` on the default
// (SQLite) database with a repo job every second and a job queued with
// `run --via-queue`, then reads the outcome back with `ghsync jobs`.
func TestServeRunsSchedulesOnSQLite(t *testing.T) {
	t.Parallel() // sleeps on poll intervals and retry pauses; touches no process-wide state
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "index.html"), []byte("<h1>hi</h1>"), 0o644)
	cfg := filepath.Join(dir, "ghsync.yaml")
	os.WriteFile(cfg, []byte(`database: sqlite://`+dir+`/data/ghsync.db
webhooks:
  insecure_no_signature: true
jobs:
  - name: site
    kind: repo
    source: dir:`+src+`
    dest: file://`+dir+`/out/site/
    schedule: "@every 1s"
  - name: manual
    kind: repo
    source: dir:`+src+`
    dest: file://`+dir+`/out/manual/
`), 0o644)

	code, out, errs := runCLI(context.Background(), "run", "manual", "--via-queue", "--config", cfg)
	if code != 0 || !regexp.MustCompile(`^queued manual as queue job \d+ in sqlite://`).MatchString(out) {
		t.Fatalf("run --via-queue: exit %d, stdout %q, stderr %s", code, out, errs)
	}

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var serveErr string
	go func() {
		code, _, errs := runCLI(ctx, "serve", "--config", cfg, "--addr", addr, "--replica-id", "only")
		serveErr = errs
		done <- code
	}()
	deadline := time.Now().Add(20 * time.Second)
	var runs struct {
		Runs []struct {
			Job, Outcome, Replica string
		} `json:"runs"`
	}
	for {
		if resp, err := http.Get("http://" + addr + "/api/runs?limit=100"); err == nil {
			json.NewDecoder(resp.Body).Decode(&runs)
			resp.Body.Close()
		}
		ok := map[string]int{}
		for _, r := range runs.Runs {
			if r.Outcome == "ok" && r.Replica == "only" {
				ok[r.Job]++
			}
		}
		if ok["site"] >= 2 && ok["manual"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("runs after 20s: %+v\nserve stderr:\n%s", runs, serveErr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "site", "index.html")); err != nil {
		t.Errorf("the scheduled sync did not write: %v", err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`ghsync_job_runs_total\{job="site",outcome="ok"\} [1-9]`).Match(metrics) {
		t.Errorf("/metrics lacks ghsync_job_runs_total for site:\n%s", grepLines(string(metrics), "ghsync_"))
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, serveErr)
	}
	// At INFO, River's own lines (migrations, producer statistics) stay out,
	// and a run's lines name the replica once.
	for _, l := range strings.Split(serveErr, "\n") {
		if strings.Contains(l, "level=INFO") && (strings.Contains(l, "component=river") || strings.Contains(l, "Producer job counts")) {
			t.Errorf("River line at INFO: %s", l)
		}
		if strings.Count(l, "replica=") > 1 {
			t.Errorf("replica logged twice: %s", l)
		}
	}
	if !strings.Contains(serveErr, "job run started") {
		t.Errorf("no run logged at INFO:\n%s", serveErr)
	}

	code, out, errs = runCLI(context.Background(), "jobs", "--config", cfg, "--json")
	if code != 0 {
		t.Fatalf("jobs: exit %d %s", code, errs)
	}
	var rows []struct {
		Name    string     `json:"name"`
		NextRun *time.Time `json:"next_run"`
		LastRun *struct {
			Outcome string `json:"outcome"`
		} `json:"last_run"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("jobs --json: %v\n%s", err, out)
	}
	if len(rows) != 2 || rows[0].NextRun == nil || rows[0].LastRun == nil || rows[0].LastRun.Outcome != "ok" ||
		rows[1].NextRun != nil || rows[1].LastRun == nil {
		t.Errorf("jobs --json = %s", out)
	}
	code, out, _ = runCLI(context.Background(), "jobs", "--config", cfg)
	if code != 0 || !strings.Contains(out, "NEXT RUN") || !regexp.MustCompile(`site\s+repo\s+@every 1s\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ`).MatchString(out) ||
		!strings.Contains(out, " ok") {
		t.Errorf("jobs table:\n%s", out)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
