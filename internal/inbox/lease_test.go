package inbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/store"
)

// testLease is the claim lease of the lease tests: the slow step of a run
// takes slowFor, three leases.
const (
	testLease = 300 * time.Millisecond
	slowFor   = 3 * testLease
)

// leaseLedgers are the ledgers, with the store ledger on file:// as well.
var leaseLedgers = append(ledgers[:len(ledgers):len(ledgers)], struct {
	name string
	make func(t *testing.T, e *env) Ledger
}{"store-file", func(t *testing.T, e *env) Ledger {
	b, err := store.Open(context.Background(), "file://"+t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return StoreLedger{Bucket: b}
}})

// slowEnrich points the job's enrichment at an endpoint that answers after
// slowFor (or when the request is cancelled): every run that holds a set
// spends three leases in it before its checks and actions.
func (e *env) slowEnrich() {
	e.t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(slowFor):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"name": "Example Council"}`)
	}))
	e.t.Cleanup(srv.Close)
	e.cfg.Enrich = &EnrichAction{URL: srv.URL + "/{group}.json", Field: "name"}
}

// copiesDone counts the copies to final the results say were performed.
func copiesDone(rs []*Result) int {
	n := 0
	for _, r := range rs {
		for _, a := range r.Actions {
			if a.Action == ActionCopy && a.Status == StatusDone {
				n++
			}
		}
	}
	return n
}

// TestSlowRunKeepsItsClaim: a run whose work on a set takes three times
// the claim lease renews its claim, so a second run on the same sets,
// started after the first lease would have run out, finds them held and
// acts on nothing: every action is performed exactly once (one issue and
// no comment, one email, one callback per set, each file copied once),
// counted at the fakes. With every ledger.
func TestSlowRunKeepsItsClaim(t *testing.T) {
	for _, lk := range leaseLedgers {
		t.Run(lk.name, func(t *testing.T) {
			e := newEnv(t)
			e.deps.Ledger = lk.make(t, e)
			e.deps.ClaimLease = testLease
			e.slowEnrich()
			e.upload("dc_districts.csv", "districts.csv")
			e.upload("dc_stations.csv", "stations.csv")
			e.uploadTo("incomplete.csv", failingSet+"a.csv")
			bucket := strings.TrimPrefix(e.cfg.Watch, "mem://")
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				results []*Result
			)
			run := func(name, key string) {
				defer wg.Done()
				er, err := ProcessEvent(context.Background(), e.deps, e.cfg, []EventObject{{Bucket: bucket, Key: key}}, RunOptions{})
				if err != nil {
					t.Errorf("run %s: %v", name, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				results = append(results, er.Results...)
			}
			for i, start := range []time.Duration{0, testLease + testLease/2} {
				time.Sleep(start)
				wg.Add(2)
				go run(fmt.Sprintf("%d/passing", i), setPrefix+"districts.csv")
				go run(fmt.Sprintf("%d/failing", i), failingSet+"a.csv")
			}
			wg.Wait()
			busy := 0
			for _, r := range results {
				if r.Busy {
					busy++
				}
			}
			issues := e.gh.Issues("DemocracyClub", "UK-Polling-Stations")
			if len(issues) != 1 || len(issues[0].Comments) != 0 {
				t.Errorf("%d issues (%+v); want one, without comments", len(issues), issues)
			}
			if n := len(e.smtp.Mails()); n != 1 {
				t.Errorf("emails %d; want 1", n)
			}
			if n := e.posts(); n != 2 {
				t.Errorf("callbacks %d; want 2 (one per set)", n)
			}
			if n := copiesDone(results); n != 2 {
				t.Errorf("copies performed %d; want 2 (each file of the passing set once)", n)
			}
			if busy != 2 {
				t.Errorf("%d runs found their set held by the slow run; want 2", busy)
			}
		})
	}
}

// TestLostClaimStopsTheRun: while a run spends three leases in its slow
// step, its claim is taken by another owner (stolen in the ledger, as a run
// would after a lease ran out unrenewed). The run's next renewal finds the
// claim lost: it starts no action (no issue, copy, report, email or
// callback), records nothing over the thief's claim, and fails with
// ErrClaimLost. With every ledger.
func TestLostClaimStopsTheRun(t *testing.T) {
	for _, lk := range leaseLedgers {
		t.Run(lk.name, func(t *testing.T) {
			e := newEnv(t)
			l := lk.make(t, e)
			e.deps.Ledger = l
			e.deps.ClaimLease = testLease
			e.slowEnrich()
			e.upload("dc_districts.csv", "districts.csv")
			e.upload("dc_stations.csv", "stations.csv")
			ctx := context.Background()
			fp := e.setFingerprint(setPrefix)
			bucket := strings.TrimPrefix(e.cfg.Watch, "mem://")
			type outcome struct {
				er  *EventResult
				err error
			}
			done := make(chan outcome, 1)
			go func() {
				er, err := ProcessEvent(ctx, e.deps, e.cfg, []EventObject{{Bucket: bucket, Key: setPrefix + "districts.csv"}}, RunOptions{})
				done <- outcome{er, err}
			}()
			time.Sleep(testLease / 2) // the run holds the set and waits for its slow step
			later := time.Now().Add(time.Hour)
			thief, err := l.Claim(ctx, e.cfg.Name, setPrefix, "", Claim{Owner: "thief", Fingerprint: fp, Now: later, Until: later.Add(time.Hour)})
			if err != nil || !thief.Claimed {
				t.Fatalf("steal the claim: %+v, %v", thief, err)
			}
			o := <-done
			if !errors.Is(o.err, ErrClaimLost) {
				t.Errorf("run whose claim was taken: %v; want ErrClaimLost", o.err)
			}
			if issues := e.gh.Issues("DemocracyClub", "UK-Polling-Stations"); len(issues) != 0 {
				t.Errorf("%d issues raised after the claim was lost", len(issues))
			}
			if n := len(e.smtp.Mails()) + e.posts(); n != 0 {
				t.Errorf("%d emails and callbacks after the claim was lost", n)
			}
			for _, k := range e.finalKeys() {
				if !strings.HasPrefix(k, ".ghsync/") {
					t.Errorf("final holds %s: copied after the claim was lost", k)
				}
			}
			// The thief's claim stands: nothing was recorded or released.
			cr, err := l.Claim(ctx, e.cfg.Name, setPrefix, fp, Claim{Owner: "third", Fingerprint: fp, Now: time.Now(), Until: time.Now().Add(time.Minute)})
			if err != nil || !cr.Busy || cr.Holder.Owner != "thief" {
				t.Errorf("after the run: %+v, %v; want the set held by the thief", cr, err)
			}
		})
	}
}

// TestRenewExtendsOnlyAHeldClaim: Renew moves the claim's end (a claimer
// after the old end but before the new one finds the set busy), the renewed
// hold records and the hold it replaced no longer does on the store ledger
// (whose hold is the record's ETag); a claim taken by another run is not
// renewed (ErrClaimLost) and stays the other run's.
func TestRenewExtendsOnlyAHeldClaim(t *testing.T) {
	for _, lk := range leaseLedgers {
		t.Run(lk.name, func(t *testing.T) {
			e := newEnv(t)
			l := lk.make(t, e)
			ctx := context.Background()
			now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
			c := Claim{Owner: "run", Fingerprint: "fp", Now: now, Until: now.Add(time.Minute)}
			cr, err := l.Claim(ctx, "job", setPrefix, "fp", c)
			if err != nil || !cr.Claimed {
				t.Fatalf("claim: %+v, %v", cr, err)
			}
			h, err := l.Renew(ctx, "job", setPrefix, cr.Hold, now.Add(3*time.Minute))
			if err != nil || !h.Until.Equal(now.Add(3*time.Minute)) {
				t.Fatalf("renew: %+v, %v", h, err)
			}
			other := Claim{Owner: "other", Fingerprint: "fp", Now: now.Add(2 * time.Minute), Until: now.Add(5 * time.Minute)}
			if got, err := l.Claim(ctx, "job", setPrefix, "fp", other); err != nil || !got.Busy || !got.Holder.Until.Equal(now.Add(3*time.Minute)) {
				t.Fatalf("claim after the old end, before the renewed one: %+v, %v; want busy until the renewed end", got, err)
			}
			if _, isStore := l.(StoreLedger); isStore {
				err := l.Put(ctx, "job", setPrefix, LedgerRecord{Fingerprint: "fp", Attempts: 1, At: now}, cr.Hold)
				if !errors.Is(err, ErrClaimLost) {
					t.Errorf("record with the hold before the renewal: %v; want ErrClaimLost", err)
				}
			}
			// Another run takes the set after the renewed end.
			other.Now, other.Until = now.Add(4*time.Minute), now.Add(9*time.Minute)
			if got, err := l.Claim(ctx, "job", setPrefix, "fp", other); err != nil || !got.Claimed {
				t.Fatalf("claim after the renewed end: %+v, %v", got, err)
			}
			if _, err := l.Renew(ctx, "job", setPrefix, h, now.Add(10*time.Minute)); !errors.Is(err, ErrClaimLost) {
				t.Errorf("renew a claim taken by another run: %v; want ErrClaimLost", err)
			}
			third := Claim{Owner: "third", Fingerprint: "fp", Now: now.Add(8 * time.Minute), Until: now.Add(20 * time.Minute)}
			if got, err := l.Claim(ctx, "job", setPrefix, "fp", third); err != nil || !got.Busy || got.Holder.Owner != "other" {
				t.Errorf("after the refused renewal: %+v, %v; want the set still the other run's", got, err)
			}
		})
	}
}
