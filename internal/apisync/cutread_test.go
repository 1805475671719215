package apisync_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/apisync"
	"github.com/ghsync/ghsync/internal/apisync/apisynctest"
	"github.com/ghsync/ghsync/internal/db/dbtest"
)

// faultyTransport answers the requests whose 1-based index is in cut with
// the real response's body cut in half (then io.ErrUnexpectedEOF, as a
// connection closed before Content-Length), and those in limited with 429
// and Retry-After: 2.
type faultyTransport struct {
	mu           sync.Mutex
	n            int
	cut, limited map[int]bool
}

func (f *faultyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.n++
	n := f.n
	f.mu.Unlock()
	if f.limited[n] {
		return &http.Response{StatusCode: 429, Status: "429 Too Many Requests", Request: r, Proto: "HTTP/1.1",
			Header: http.Header{"Retry-After": {"2"}}, Body: io.NopCloser(strings.NewReader(`{"message":"slow down"}`))}, nil
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || !f.cut[n] {
		return resp, err
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(io.MultiReader(strings.NewReader(string(data[:len(data)/2])), errReader{io.ErrUnexpectedEOF}))
	return resp, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// A listing page whose body is cut short is fetched again (within the
// transient retry budget): one cut connection does not fail the run.
func TestAirtableCutPageRetried(t *testing.T) {
	d := dbtest.SQLite(t)
	fake := apisynctest.NewAirtable(t, testToken)
	fake.LimitPerSecond = 0
	fake.SetRecords(testBase, "T", genRecords(150))
	deps, slept, _ := testDeps(t, d)
	deps.HTTP = &http.Client{Transport: &faultyTransport{cut: map[int]bool{2: true}}}
	cfg := apisync.AirtableConfig{Base: testBase, Table: "T", Token: testToken, Target: "t", APIURL: fake.URL(), DeleteMissing: true}
	sum, err := apisync.SyncAirtable(context.Background(), deps, cfg, apisync.RunOptions{})
	if err != nil {
		t.Fatalf("a cut page failed the run: %v", err)
	}
	wantCounts(t, sum, "t", counts{ins: 150})
	if w := slept.all(); len(w) != 1 || w[0] != time.Second || sum.Requests != 3 {
		t.Fatalf("waits %v, requests %d; want one 1s wait and 3 requests", w, sum.Requests)
	}
}

// Badgr: a cut token answer and a cut page are fetched again, and a 429 is
// waited out (its Retry-After) and retried, instead of failing the run.
func TestBadgrCutReadsAndRateLimitRetried(t *testing.T) {
	d := dbtest.SQLite(t)
	fake := apisynctest.NewBadgr(t, badgrUser, badgrPass)
	fake.SetBadgeClasses(badgrIssuer, genBadges())
	fake.SetAssertions(badgrIssuer, genAssertions(10))
	deps, slept, _ := testDeps(t, d)
	// 1: token (cut), 2: token, 3: badge classes (429), 4: badge classes (cut), 5: badge classes, 6: assertions.
	deps.HTTP = &http.Client{Transport: &faultyTransport{cut: map[int]bool{1: true, 4: true}, limited: map[int]bool{3: true}}}
	sum, err := apisync.SyncBadgr(context.Background(), deps, badgrCfg(fake.URL()), apisync.RunOptions{})
	if err != nil {
		t.Fatalf("cut reads or a 429 failed the run: %v", err)
	}
	if n := countRows(t, d, "badges"); n != 3 {
		t.Fatalf("badges = %d; want 3", n)
	}
	if n := countRows(t, d, "assertions"); n != 10 {
		t.Fatalf("assertions = %d; want 10", n)
	}
	w := slept.all()
	var sawRetryAfter bool
	for _, d := range w {
		if d == 2*time.Second {
			sawRetryAfter = true
		}
	}
	if !sawRetryAfter || sum.RateLimited != 1 {
		t.Fatalf("waits %v, rate limited %d; want the 429's Retry-After (2s) waited once", w, sum.RateLimited)
	}
}
