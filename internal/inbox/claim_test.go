package inbox

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/store"
)

// failingSet is a second set of the claim tests, failing its checks.
const failingSet = "E07000111/2026-05-07/2026-04-01T11:00:00Z/"

// uploadTo puts testdata/files/NAME at key in the watch store.
func (e *env) uploadTo(name, key string) {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "files", name))
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.watch.Put(context.Background(), key, bytes.NewReader(b), store.PutOptions{ContentType: "text/csv"}); err != nil {
		e.t.Fatal(err)
	}
}

// posts counts the callback POSTs.
func (e *env) posts() int {
	n := 0
	for _, r := range e.cb.Requests() {
		if r.Method == http.MethodPost {
			n++
		}
	}
	return n
}

// TestConcurrentEventsActOnce: eight runs at once, each handling the S3
// event of one file of two two-file sets (one passing, one failing), as
// concurrent Lambda invocations do: each set is acted on by exactly one run
// (one issue and no Updated comment, one email, one callback per set); the
// others say the set is being processed by another run, or unchanged, and
// succeed. With every ledger.
func TestConcurrentEventsActOnce(t *testing.T) {
	for _, lk := range ledgers {
		t.Run(lk.name, func(t *testing.T) {
			e := newEnv(t)
			e.deps.Ledger = lk.make(t, e)
			e.upload("dc_districts.csv", "districts.csv")
			e.upload("dc_stations.csv", "stations.csv")
			e.uploadTo("incomplete.csv", failingSet+"a.csv")
			e.uploadTo("dc_stations.csv", failingSet+"b.csv")
			bucket := strings.TrimPrefix(e.cfg.Watch, "mem://")
			keys := []string{setPrefix + "districts.csv", setPrefix + "stations.csv", failingSet + "a.csv", failingSet + "b.csv"}
			const runs = 8
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				mu    sync.Mutex
				acted = map[string]int{}
				busy  int
			)
			for i := range runs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					ev := []EventObject{{Bucket: bucket, Key: keys[i%len(keys)]}}
					er, err := ProcessEvent(context.Background(), e.deps, e.cfg, ev, RunOptions{})
					if err != nil {
						t.Errorf("run %d: %v", i, err)
						return
					}
					mu.Lock()
					defer mu.Unlock()
					for _, r := range er.Results {
						switch {
						case r.Busy:
							busy++
							var b strings.Builder
							_ = WriteResult(&b, r)
							if !strings.Contains(b.String(), "being processed by another run") {
								t.Errorf("busy run's summary %q does not say so", b.String())
							}
						case !r.Skipped:
							acted[r.Prefix]++
						}
					}
				}()
			}
			close(start)
			wg.Wait()
			if acted[setPrefix] != 1 || acted[failingSet] != 1 {
				t.Errorf("sets acted on %v; want each once", acted)
			}
			issues := e.gh.Issues("DemocracyClub", "UK-Polling-Stations")
			if len(issues) != 1 || len(issues[0].Comments) != 0 {
				t.Errorf("issues %+v; want one, without comments", issues)
			}
			if n := e.posts(); n != 2 {
				t.Errorf("callbacks %d; want 2 (one per set)", n)
			}
			if n := len(e.smtp.Mails()); n != 1 {
				t.Errorf("emails %d; want 1", n)
			}
			t.Logf("%d runs: %d found a set being processed by another run", runs, busy)
		})
	}
}

// TestCrashedClaimIsTakenOverAfterItsLease: a run that claimed a set and
// died keeps other runs off the set until its lease expires; then the next
// event processes the set, and the dead run's late record is refused.
func TestCrashedClaimIsTakenOverAfterItsLease(t *testing.T) {
	for _, lk := range ledgers {
		t.Run(lk.name, func(t *testing.T) {
			e := newEnv(t)
			l := lk.make(t, e)
			e.deps.Ledger = l
			now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
			e.deps.Now = func() time.Time { return now }
			e.deps.ClaimLease = 10 * time.Minute
			e.upload("incomplete.csv", "f.csv")
			ctx := context.Background()
			fp := e.setFingerprint(setPrefix)
			dead, err := l.Claim(ctx, e.cfg.Name, setPrefix, fp, Claim{Owner: "dead-run", Fingerprint: fp, Now: now, Until: now.Add(10 * time.Minute)})
			if err != nil || !dead.Claimed {
				t.Fatalf("claim: %+v, %v", dead, err)
			}
			bucket := strings.TrimPrefix(e.cfg.Watch, "mem://")
			ev := []EventObject{{Bucket: bucket, Key: setPrefix + "f.csv"}}
			er, err := ProcessEvent(ctx, e.deps, e.cfg, ev, RunOptions{})
			if err != nil || len(er.Results) != 1 || !er.Results[0].Busy || !er.Results[0].BusyUntil.Equal(now.Add(10*time.Minute)) {
				t.Fatalf("during the lease: %+v, %v; want busy until the lease ends", er.Results, err)
			}
			if n := len(e.smtp.Mails()) + e.posts(); n != 0 {
				t.Fatalf("%d actions while another run held the set", n)
			}
			// By hand: refused while claimed, saying why.
			if _, err := ProcessSet(ctx, e.deps, e.cfg, setPrefix, RunOptions{}); err == nil || !strings.Contains(err.Error(), "being processed by another run") {
				t.Errorf("run by hand during the lease: %v; want it refused", err)
			}
			now = now.Add(10*time.Minute + time.Second)
			er, err = ProcessEvent(ctx, e.deps, e.cfg, ev, RunOptions{})
			if err != nil || len(er.Results) != 1 || er.Results[0].Busy || er.Results[0].Skipped {
				t.Fatalf("after the lease: %+v, %v; want the set processed", er.Results, err)
			}
			if len(e.smtp.Mails()) != 1 || e.posts() != 1 {
				t.Errorf("after the lease: %d mails, %d callbacks; want 1 and 1", len(e.smtp.Mails()), e.posts())
			}
			err = l.Put(ctx, e.cfg.Name, setPrefix, LedgerRecord{Fingerprint: fp, Complete: true, Attempts: 1, At: now}, dead.Hold)
			if !errors.Is(err, ErrClaimLost) {
				t.Errorf("the dead run's late record: %v; want ErrClaimLost", err)
			}
			er, err = ProcessEvent(ctx, e.deps, e.cfg, ev, RunOptions{})
			if err != nil || !er.Results[0].Skipped {
				t.Errorf("redelivery: %+v, %v; want unchanged", er.Results, err)
			}
		})
	}
}

// setFingerprint is the fingerprint of the set at prefix as the watch
// store lists it now.
func (e *env) setFingerprint(prefix string) string {
	e.t.Helper()
	var files []FileReport
	err := e.watch.List(context.Background(), func(o store.Object) error {
		if strings.HasPrefix(o.Key, prefix) {
			files = append(files, FileReport{Key: o.Key, ETag: o.ETag})
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return Fingerprint(files)
}

// busySignal is a Ledger that closes busy the first time a claim finds the
// set held by another run.
type busySignal struct {
	Ledger
	once sync.Once
	busy chan struct{}
}

func (b *busySignal) Claim(ctx context.Context, job, prefix, fp string, c Claim) (ClaimResult, error) {
	cr, err := b.Ledger.Claim(ctx, job, prefix, fp, c)
	if cr.Busy {
		b.once.Do(func() { close(b.busy) })
	}
	return cr, err
}

// TestEventWaitsForARunOnOtherContent: the event of a set's second file
// finds the set claimed by the run of the first file's event, which listed
// the set before the second file arrived. The second event does not drop
// the set (nobody would process both files): it waits for that run to
// finish, then processes the set as it is now; when the wait runs out it
// fails, so that the event is delivered again.
func TestEventWaitsForARunOnOtherContent(t *testing.T) {
	for _, lk := range ledgers {
		t.Run(lk.name, func(t *testing.T) {
			e := newEnv(t)
			l := lk.make(t, e)
			sig := &busySignal{Ledger: l, busy: make(chan struct{})}
			e.deps.Ledger = sig
			e.upload("dc_districts.csv", "districts.csv")
			ctx := context.Background()
			older := e.setFingerprint(setPrefix) // what the first run listed
			first, err := l.Claim(ctx, e.cfg.Name, setPrefix, older, Claim{Owner: "first-run", Fingerprint: older,
				Now: time.Now(), Until: time.Now().Add(time.Hour)})
			if err != nil || !first.Claimed {
				t.Fatalf("claim: %+v, %v", first, err)
			}
			e.upload("dc_stations.csv", "stations.csv")
			bucket := strings.TrimPrefix(e.cfg.Watch, "mem://")
			ev := []EventObject{{Bucket: bucket, Key: setPrefix + "stations.csv"}}

			e.deps.ClaimWait = time.Millisecond // gives up at once
			er, err := ProcessEvent(ctx, e.deps, e.cfg, ev, RunOptions{})
			if err == nil || !strings.Contains(err.Error(), "other content") || e.posts() != 0 {
				t.Fatalf("short wait: %v, %d callbacks; want an error (the event is delivered again) and nothing done", err, e.posts())
			}
			if len(er.Results) != 1 || !er.Results[0].Busy {
				t.Errorf("short wait: %+v; want the set busy", er.Results)
			}

			e.deps.ClaimWait = time.Hour
			done := make(chan error, 1)
			var res *EventResult
			go func() {
				var err error
				res, err = ProcessEvent(ctx, e.deps, e.cfg, ev, RunOptions{})
				done <- err
			}()
			<-sig.busy // the event found the set claimed ...
			// ... and the first run finishes with the content it listed.
			if err := l.Put(ctx, e.cfg.Name, setPrefix, LedgerRecord{Fingerprint: older, Passed: false, Files: 1, Complete: true,
				Attempts: 1, At: time.Now()}, first.Hold); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("event after waiting: %v", err)
			}
			if len(res.Results) != 1 || res.Results[0].Busy || res.Results[0].Skipped || len(res.Results[0].Keys) != 2 {
				t.Fatalf("event after waiting: %+v; want both files processed", res.Results)
			}
			if issues := e.gh.Issues("DemocracyClub", "UK-Polling-Stations"); len(issues) != 1 || e.posts() != 1 {
				t.Errorf("%d issues, %d callbacks; want the two-file set raised and called back once", len(issues), e.posts())
			}
		})
	}
}
