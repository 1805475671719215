//go:build integration

package statuses

import (
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/ghsync/ghsync/internal/faultproxy"
	"github.com/ghsync/ghsync/internal/s3test"
)

// TestLostAnswerWriteIsDone: the S3 server stores the snapshot but ghsync
// sees a 502 (faultproxy's "acted502" on the run's first PUT), so the
// store's retry sends the conditional write again and gets 412. The stored
// object is exactly this run's write: the run reports the snapshot written
// and succeeds, for a first snapshot (If-None-Match) and a replaced one
// (If-Match). On the code before the fix the run failed with "changed by
// someone else during the run".
func TestLostAnswerWriteIsDone(t *testing.T) {
	direct := s3test.Bucket(t)
	endpoint := s3test.Endpoint(t)
	e := envAt(t, direct)
	heads := linear(e, "main", 5, 1, 2)
	for round, name := range []string{"create", "replace"} {
		t.Run(name, func(t *testing.T) {
			if round == 1 {
				heads = linear(e, "main", 1, 1, 2)
			}
			var faulted atomic.Bool
			p, err := faultproxy.NewHTTP(endpoint, faultproxy.Config{Seed: 1, Rates: faultproxy.Rates{faultproxy.Acted: 1},
				ErrorType: "application/xml", ErrorBody: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>fault injected</Message></Error>`,
				Filter: func(r *http.Request) bool { return r.Method == http.MethodPut && faulted.CompareAndSwap(false, true) }})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			sum, puts, err := runCounting(t, e, viaEndpoint(t, direct, p.URL), nil)
			if n := p.Counts()[faultproxy.Acted]; n != 1 {
				t.Fatalf("faults injected %v (%s); want one acted502", p.Counts(), p.Faults())
			}
			if err != nil || sum.BranchesWritten != 1 || sum.BranchesFailed != 0 {
				t.Fatalf("run whose write's answer was lost: %v, summary %+v; want the snapshot written", err, sum)
			}
			raw, _ := e.read(t, Key("acme", "app", "main"))
			s, err := Parse(raw)
			if err != nil || len(s.Commits) == 0 || s.Commits[0].SHA != heads[len(heads)-1] {
				t.Fatalf("stored snapshot: %v, %+v; want one headed by %s", err, s, heads[len(heads)-1])
			}
			t.Logf("%d PUT requests; faults: %s", puts, p.Faults())
		})
	}
}

// viaEndpoint is the S3 bucket URL u sent through endpoint (a proxy).
func viaEndpoint(t *testing.T, u, endpoint string) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	q.Set("endpoint", endpoint)
	pu.RawQuery = q.Encode()
	return pu.String()
}
