//go:build integration

package e2e

// The fault suite (faultsuite_*_test.go): each capability runs the built
// ghsync binary many times with a faultproxy in front of every upstream it
// talks to, checks after every run that the process ended cleanly (exit 0
// or 1, one JSON object with --json, no panic, no hang) and that the
// capability's invariant holds, then turns the faults off and checks that one
// clean run converges exactly. FAULTSUITE_RUNS sets the number of faulty runs
// per case (default: sized for the CI budget), FAULTSUITE_SEED the first
// run's seed (run i uses seed+i), FAULTSUITE_REPORT_DIR a directory that also
// receives each capability's report table.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/faultproxy"
)

// suiteRuns is the number of faulty runs per case: FAULTSUITE_RUNS, else def.
func suiteRuns(t *testing.T, def int) int {
	t.Helper()
	if v := os.Getenv("FAULTSUITE_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("FAULTSUITE_RUNS=%q: want a positive number", v)
		}
		return n
	}
	return def
}

// suiteSeed is the first run's seed: FAULTSUITE_SEED, else 1.
func suiteSeed(t *testing.T) uint64 {
	t.Helper()
	if v := os.Getenv("FAULTSUITE_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("FAULTSUITE_SEED=%q: want a number", v)
		}
		return n
	}
	return 1
}

// allFaults is the HTTP mix every suite uses unless it says otherwise: about
// total of the eligible requests get a fault, spread over every kind.
func allFaults(total float64) faultproxy.Rates {
	return faultproxy.Rates{
		faultproxy.ServerError: total * .2, faultproxy.TooMany: total * .1, faultproxy.Reset: total * .2,
		faultproxy.Short: total * .2, faultproxy.Slow: total * .1, faultproxy.Acted: total * .2,
	}
}

// s3ErrorBody is what an injected error looks like from an S3 server.
const s3ErrorBody = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>fault injected</Message></Error>`

// counter is a proxy's fault counts (HTTP or SMTP).
type counter interface {
	Counts() map[faultproxy.Kind]int64
	Faults() string
}

// suiteReport accumulates one capability's figures.
type suiteReport struct {
	name      string
	mu        sync.Mutex
	runs      int // faulty runs
	clean     int // clean runs
	exit0     int
	exit1     int
	failures  int // invariant failures
	faults    map[faultproxy.Kind]int64
	failLines []string
	dir       string // the test's temp dir, which receives the report file
}

// newReport starts a capability's report; it is logged and written when t
// and all its subtests (parallel ones included) are done.
func newReport(t *testing.T, name string) *suiteReport {
	r := &suiteReport{name: name, faults: map[faultproxy.Kind]int64{}, dir: t.TempDir()}
	t.Cleanup(func() { r.write(t) })
	return r
}

// addFaults adds the counts of proxies that are done.
func (r *suiteReport) addFaults(ps ...counter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range ps {
		for k, v := range p.Counts() {
			r.faults[k] += v
		}
	}
}

// fail records an invariant failure and fails the test (the run goes on, so
// the report counts every failure).
func (r *suiteReport) fail(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.failures++
	if len(r.failLines) < 20 {
		r.failLines = append(r.failLines, msg)
	}
	r.mu.Unlock()
	t.Errorf("INVARIANT: %s", msg)
}

// table renders the report.
func (r *suiteReport) table() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "fault suite: %s\n", r.name)
	fmt.Fprintf(&b, "  %-28s %d (+%d clean)\n", "faulty runs", r.runs, r.clean)
	fmt.Fprintf(&b, "  %-28s %d\n", "runs exit 0", r.exit0)
	fmt.Fprintf(&b, "  %-28s %d\n", "runs exit 1", r.exit1)
	var kinds []string
	var total int64
	for k, v := range r.faults {
		kinds = append(kinds, string(k))
		total += v
	}
	sort.Strings(kinds)
	fmt.Fprintf(&b, "  %-28s %d\n", "faults injected", total)
	for _, k := range kinds {
		fmt.Fprintf(&b, "    %-26s %d\n", k, r.faults[faultproxy.Kind(k)])
	}
	fmt.Fprintf(&b, "  %-28s %d\n", "invariant failures", r.failures)
	for _, l := range r.failLines {
		fmt.Fprintf(&b, "    - %s\n", l)
	}
	return b.String()
}

// write logs the report and writes it under the test's temp dir (and
// FAULTSUITE_REPORT_DIR when set). It also fails a suite that injected
// nothing: such a run proves nothing.
func (r *suiteReport) write(t *testing.T) {
	t.Helper()
	tab := r.table()
	t.Log("\n" + tab)
	name := "faultsuite-" + slug(r.name) + ".txt"
	dirs := []string{r.dir}
	if d := os.Getenv("FAULTSUITE_REPORT_DIR"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, name), []byte(tab), 0o644); err != nil {
			t.Errorf("write report: %v", err)
		}
	}
	var total int64
	for _, v := range r.faults {
		total += v
	}
	if r.runs > 0 && total == 0 {
		t.Errorf("%s: %d faulty runs injected no fault: the suite proved nothing", r.name, r.runs)
	}
}

// runTimeout bounds one run of the binary: a run still going is a hang.
// Runs take seconds on an idle machine; the longest wait one may make on
// purpose is Badgr's Retry-After (at most a minute), and on a loaded
// 2-core machine a faulted run with slow answers was seen taking over 90 s.
const runTimeout = 3 * time.Minute

// runBin runs the built binary in dir with env (plus PATH and HOME=dir) as
// its whole environment and checks that it ended cleanly: exit 0 or 1 (2
// when allowUsage), one JSON object on stdout when --json is among args, no
// panic trace, within runTimeout (a hang is killed and fails the test, code
// -1). It counts the exit in rep (faulty says which column) and returns the
// result. Safe to call from several goroutines.
func runBin(t *testing.T, rep *suiteReport, faulty bool, dir string, env map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	began := time.Now()
	err := cmd.Run()
	res := result{stdout: out.String(), stderr: errb.String()}
	if os.Getenv("FAULTSUITE_VERBOSE") != "" {
		t.Logf("ghsync %s: %s\n%s", strings.Join(args, " "), time.Since(began).Round(time.Millisecond), tail(res.stderr))
	}
	var ee *exec.ExitError
	// Failures are reported with Errorf (runBin may run on several
	// goroutines at once), so a hang fails the test without stopping the rest.
	switch {
	case ctx.Err() != nil:
		rep.fail(t, "ghsync %s hung: killed after %s\nstderr:\n%s", strings.Join(args, " "), runTimeout, tail(res.stderr))
		return result{code: -1, stdout: res.stdout, stderr: res.stderr}
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Errorf("run ghsync: %v", err)
		return result{code: -1}
	}
	rep.mu.Lock()
	if faulty {
		rep.runs++
	} else {
		rep.clean++
	}
	switch res.code {
	case 0:
		rep.exit0++
	case 1:
		rep.exit1++
	}
	rep.mu.Unlock()
	if res.code != 0 && res.code != 1 {
		rep.fail(t, "ghsync %s: exit %d (want 0 or 1)\nstderr:\n%s", strings.Join(args, " "), res.code, tail(res.stderr))
	}
	if strings.Contains(res.stderr, "panic:") || strings.Contains(res.stderr, "goroutine 1 [") {
		rep.fail(t, "ghsync %s panicked:\n%s", strings.Join(args, " "), tail(res.stderr))
	}
	if res.code == 1 && !strings.Contains(res.stderr, "ghsync") && !strings.Contains(res.stdout, "error") {
		rep.fail(t, "ghsync %s: exit 1 without saying why\nstderr:\n%s", strings.Join(args, " "), tail(res.stderr))
	}
	for _, a := range args {
		if a == "--json" {
			if err := oneJSONObject(res.stdout); err != nil {
				rep.fail(t, "ghsync %s --json: %v\nstdout:\n%s", strings.Join(args, " "), err, tail(res.stdout))
			}
		}
	}
	return res
}

// oneJSONObject checks that s is exactly one JSON object.
func oneJSONObject(s string) error {
	dec := json.NewDecoder(strings.NewReader(s))
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("stdout is not a JSON object: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("stdout holds more than one JSON value")
	}
	return nil
}

// tail keeps the end of a long output.
func tail(s string) string {
	const max = 3000
	if len(s) > max {
		return "…" + s[len(s)-max:]
	}
	return s
}

// startProxy starts a fault proxy in front of upstream, closed by t.Cleanup.
// With FAULTSUITE_VERBOSE set, every decision is logged.
func startProxy(t *testing.T, upstream string, cfg faultproxy.Config) *faultproxy.Proxy {
	t.Helper()
	if os.Getenv("FAULTSUITE_VERBOSE") != "" && cfg.Logf == nil {
		cfg.Logf = t.Logf
	}
	p, err := faultproxy.NewHTTP(upstream, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// s3Via points an s3test bucket URL at another endpoint (a proxy).
func s3Via(t *testing.T, bucketURL, endpoint string) string {
	t.Helper()
	u, err := url.Parse(bucketURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("endpoint") == "" {
		t.Fatalf("cannot point %s at the proxy: no endpoint parameter", bucketURL)
	}
	q.Set("endpoint", endpoint)
	u.RawQuery = q.Encode()
	return u.String()
}

// s3Env is the AWS part of a child's environment (the test server's credentials).
func awsEnv() map[string]string {
	env := map[string]string{}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"} {
		if v := os.Getenv(k); v != "" {
			env[k] = v
		}
	}
	if env["AWS_REGION"] == "" {
		env["AWS_REGION"] = "us-east-1"
	}
	return env
}

// merge returns the union of maps (later ones win).
func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// logFaults logs which requests got which fault in a run whose invariant
// failed, so the seed can be replayed and the request found.
func logFaults(t *testing.T, seed uint64, ps ...counter) {
	t.Helper()
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Faults())
	}
	t.Logf("seed %d injected:\n%s", seed, tail(b.String()))
}

// slug keeps a name's letters and digits, the rest becoming single dashes.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		if ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
