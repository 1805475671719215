//go:build integration

package e2e

import (
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/faultproxy"
	"github.com/ghsync/ghsync/internal/s3test"
)

// TestDeltaFaults runs git delta runs (a checkout whose commit diff says
// what changed; the manifest sharded) through the fault proxy in front of
// the S3 server: 5xx, 429, connection resets, bodies cut short, slow
// answers and requests the server acted on but answered 502 (lost
// answers), at about a quarter of the requests. After each faulty run
// (exit 0 or 1) the manifest claims nothing untrue (every blob and ETag it
// records is what the store holds; no object outside it); one clean run
// then makes the store and manifest equal the source exactly. Every faulty
// run starts from a committed manifest, so it is a delta run; the test
// fails unless some delta runs completed despite faults and some failed
// after their intent. FAULTSUITE_SEED and FAULTSUITE_RUNS as in the suite.
func TestDeltaFaults(t *testing.T) {
	bin := binary(t)
	tree, direct, b := deltaFixtureS3(t, bin, 4000, 21)
	endpoint := s3test.Endpoint(t)
	seed0, runs := suiteSeed(t), suiteRuns(t, 16)
	absorbed, failedMidway, exit1 := 0, 0, 0
	// Which requests meet a fault depends on the order concurrent requests
	// reach the proxy, so a seed does not fix the outcome: past the runs
	// asked for, keep going (up to three times as many) until both kinds of
	// outcome were seen, rather than fail on a quiet draw.
	i := 0
	for ; i < runs || ((absorbed == 0 || failedMidway == 0) && i < 3*runs); i++ {
		seed := seed0 + uint64(i)
		tree.change()
		p := startProxy(t, endpoint, faultproxy.Config{Seed: seed ^ 0xde17a, Rates: allFaults(.25), RetryAfter: "1",
			ErrorBody: s3ErrorBody, ErrorType: "application/xml"})
		code, out, _ := deltaSync(t, bin, tree.dir, s3Via(t, direct, p.URL), nil)
		p.Close()
		if code != 0 && code != 1 {
			t.Fatalf("run %d (seed %d): exit %d\n%s", i, seed, code, tail(out))
		}
		if strings.Contains(out, "panic:") {
			t.Fatalf("run %d (seed %d) panicked\n%s", i, seed, tail(out))
		}
		m, _, fails := checkDeltaHonest(t, b, tree.blobs)
		if len(fails) > 0 {
			logFaults(t, seed, p)
			t.Fatalf("run %d (seed %d, exit %d): the manifest lies:\n%s\n%s", i, seed, code, strings.Join(fails, "\n"), tail(out))
		}
		switch {
		case code == 0 && tookDelta(out) && p.Injected() > 0:
			absorbed++
		case code == 1:
			exit1++
			t.Logf("run %d (seed %d) exited 1: %s", i, seed, lastLine(out))
			if m != nil && len(m.Pending) > 0 {
				failedMidway++ // the intent was written: the run failed between it and the root
			}
		}
		if code, out, _ := deltaSync(t, bin, tree.dir, direct, nil); code != 0 {
			t.Fatalf("clean run after run %d (seed %d): exit %d\n%s", i, seed, code, tail(out))
		}
		if fails := checkDeltaExact(t, b, tree.files, tree.blobs); len(fails) > 0 {
			logFaults(t, seed, p)
			t.Fatalf("after the clean run following run %d (seed %d):\n%s", i, seed, strings.Join(fails, "\n"))
		}
	}
	t.Logf("%d faulty delta runs: %d completed on the delta path despite faults, %d exited 1 (%d after writing their intent); every clean run converged",
		i, absorbed, exit1, failedMidway)
	if absorbed == 0 || failedMidway == 0 {
		t.Fatalf("the faults did not exercise the delta path both ways (%d completed with faults, %d failed after the intent): change FAULTSUITE_SEED or FAULTSUITE_RUNS", absorbed, failedMidway)
	}
}

// lastLine is the last non-empty line of out.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}
