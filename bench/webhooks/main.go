// Command webhooks-bench measures ghsync's webhook ingest on loopback: an
// in-process `ghsync serve` (signature check, durable commit, background
// projection) and a load generator in the same process.
//
//	go run ./bench/webhooks                       # SQLite in a temp dir
//	go run ./bench/webhooks -db 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// Phase 1 (max): -concurrency clients post as fast as they can for -duration;
// prints deliveries/second acknowledged (each 2xx means committed).
// Phase 2 (fixed): an open-loop generator sends -rate deliveries/second for
// -duration; latency is measured from each request's scheduled send time (no
// coordinated omission); prints p50/p90/p99/max.
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/serve"
)

const secret = "bench-secret"

func main() {
	dbURL := flag.String("db", "", "database URL (default: SQLite in a temp dir)")
	duration := flag.Duration("duration", 10*time.Second, "length of each phase")
	conc := flag.Int("concurrency", 32, "clients in the max-throughput phase")
	rate := flag.Int("rate", 500, "deliveries per second in the fixed-rate phase")
	size := flag.Int("size", 6000, "approximate payload size in bytes")
	showMetrics := flag.Bool("metrics", false, "print the group-commit batch size metrics after the max phase")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.BoolVar(&skipMax, "skip-max", false, "run only the fixed-rate phase (on a fresh database)")
	flag.BoolVar(&direct, "direct", false, "assemble the webhook path directly (as serve does) instead of through serve.New")
	flag.IntVar(&logSize, "logs", 0, "download, store and classify a log of this many bytes for every wanted completed job (through serve.New; with -direct, the directly assembled path)")
	flag.IntVar(&logConc, "log-concurrency", 0, "log downloads in flight (0: the default, 4)")
	flag.IntVar(&logCPU, "log-cpu-workers", 0, "log downloads compressing/classifying at once (0: the default, half the cores; 64: effectively ungated, as before the gate)")
	flag.IntVar(&failEvery, "fail-every", 0, "with -logs: completed jobs conclude failure one time in N (others success) and only failures' logs are downloaded; 0: every completed job's log")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(*dbURL, *duration, *conc, *rate, *size, *showMetrics); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// skipMax skips the max-throughput phase.
var skipMax bool

// direct, logSize and logConc select the directly assembled server (direct.go).
var (
	direct    bool
	logSize   int
	logConc   int
	logCPU    int
	failEvery int
)

func run(dbURL string, duration time.Duration, conc, rate, size int, showMetrics bool) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if dbURL == "" {
		dir, err := os.MkdirTemp("", "ghsync-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbURL = "sqlite://" + filepath.Join(dir, "ghsync.db")
	}
	var srv benchServer
	var err error
	switch {
	case logSize > 0 && !direct:
		srv, err = newServeLogs(ctx, dbURL, logSize, logConc, logCPU)
	case direct:
		srv, err = newDirect(ctx, dbURL, logSize, logConc, logCPU)
	default:
		srv, err = serve.New(ctx, serve.Options{DatabaseURL: dbURL, Secrets: []string{secret},
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String() + "/api/github/webhooks"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 0}}
	fmt.Printf("ghsync webhook ingest benchmark: %s, GOMAXPROCS=%d, payload ≈ %d bytes, database %s, server %s, logs %d bytes per completed job\n",
		runtime.Version(), runtime.GOMAXPROCS(0), size, srv.DB().Dialect(), map[bool]string{true: "direct", false: "serve.New"}[direct], logSize)

	var seq atomic.Int64
	send := func() (time.Duration, error) {
		n := seq.Add(1)
		body := payload(n, size)
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", "workflow_job")
		req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%d", n))
		req.Header.Set("X-Hub-Signature-256", sign(body))
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return 0, fmt.Errorf("status %d", resp.StatusCode)
		}
		return time.Since(start), nil
	}

	// Warm-up.
	for i := 0; i < 200; i++ {
		if _, err := send(); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}

	var wg sync.WaitGroup
	if !skipMax {
		if err := maxPhase(ctx, srv, ln, send, duration, conc, showMetrics); err != nil {
			return err
		}
	}
	// Phase 2: fixed rate, open loop.
	total := int(duration.Seconds() * float64(rate))
	lat := make([]time.Duration, total)
	errs := atomic.Int64{}
	interval := time.Second / time.Duration(rate)
	t0 := time.Now()
	for i := 0; i < total; i++ {
		sched := t0.Add(time.Duration(i) * interval)
		if d := time.Until(sched); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := send(); err != nil {
				errs.Add(1)
				lat[i] = -1
				return
			}
			lat[i] = time.Since(sched)
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	good := lat[:0]
	for _, l := range lat {
		if l >= 0 {
			good = append(good, l)
		}
	}
	slices.Sort(good)
	pct := func(p float64) time.Duration { return good[min(len(good)-1, int(p*float64(len(good))))] }
	fmt.Printf("fixed rate %d/s for %s: %d sent (achieved %.0f/s), %d failed; latency p50 %s, p90 %s, p99 %s, max %s\n",
		rate, duration, total, float64(total)/el.Seconds(), errs.Load(),
		ms(pct(0.50)), ms(pct(0.90)), ms(pct(0.99)), ms(good[len(good)-1]))
	lagStart := time.Now()
	drain(ctx, srv.DB(), 60*time.Second)
	fmt.Printf("processing backlog drained %s after the last request\n", time.Since(lagStart).Round(time.Millisecond))
	cancel()
	return <-done
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

func unprocessed(ctx context.Context, d *db.DB) int {
	var n int
	d.QueryRow(ctx, "SELECT COUNT(*) FROM deliveries WHERE processed_at IS NULL").Scan(&n)
	return n
}

func drain(ctx context.Context, d *db.DB, max time.Duration) {
	end := time.Now().Add(max)
	for unprocessed(ctx, d) > 0 && time.Now().Before(end) {
		time.Sleep(20 * time.Millisecond)
	}
}

func sign(body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// payload builds a workflow_job delivery of about size bytes, shaped like
// GitHub's (job object, repository, sender, installation).
func payload(n int64, size int) []byte {
	status := []string{"queued", "in_progress", "completed"}[n%3]
	pad := max(0, size-900)
	conclusion := "null"
	if status == "completed" && failEvery > 0 {
		conclusion = `"success"`
		if (n/3)%int64(failEvery) == 0 {
			conclusion = `"failure"`
		}
	}
	return []byte(fmt.Sprintf(`{"action":%q,"workflow_job":{"id":%d,"run_id":%d,"run_url":"https://api.github.com/repos/octo/repo/actions/runs/%d","status":%q,"conclusion":`+conclusion+`,"name":"build (ubuntu-latest)","head_sha":"d6fde92930d4715a2b49857d24b940956b26d2d3","created_at":"2024-05-01T10:00:00Z","started_at":"2024-05-01T10:00:05Z","completed_at":null,"labels":["ubuntu-latest"],"runner_name":"GitHub Actions 2","steps":[]},"repository":{"id":1296269,"full_name":"octo/repo","private":false,"description":%q},"sender":{"login":"octocat","id":1},"installation":{"id":2311213}}`,
		status, n/3, n/30, n/30, status, strings.Repeat("x", pad)))
}

// maxPhase: conc clients post as fast as they can for duration.
func maxPhase(ctx context.Context, srv benchServer, ln net.Listener, send func() (time.Duration, error), duration time.Duration, conc int, showMetrics bool) error {
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(duration)
	t0 := time.Now()
	for c := 0; c < conc; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				if _, err := send(); err != nil {
					failed.Add(1)
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	backlog := unprocessed(ctx, srv.DB())
	fmt.Printf("max throughput: %d clients, %s: %d acknowledged (%d failed) = %.0f deliveries/s; unprocessed backlog at end: %d\n",
		conc, el.Round(time.Millisecond), ok.Load(), failed.Load(), float64(ok.Load())/el.Seconds(), backlog)
	drain(ctx, srv.DB(), 60*time.Second)
	if showMetrics {
		mr, _ := http.Get("http://" + ln.Addr().String() + "/metrics")
		mb, _ := io.ReadAll(mr.Body)
		for _, l := range strings.Split(string(mb), "\n") {
			if strings.HasPrefix(l, "ghsync_webhook_commit_batch_size_sum") || strings.HasPrefix(l, "ghsync_webhook_commit_batch_size_count") {
				fmt.Println(l)
			}
		}
	}

	return nil
}
