package inbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/store"
)

// poll runs one Poll of the env's job.
func (e *env) poll() (*PollResult, error) {
	e.t.Helper()
	pr, err := Poll(context.Background(), e.deps, e.cfg, RunOptions{})
	if pr == nil {
		e.t.Fatalf("Poll returned no result: %v", err)
	}
	return pr, err
}

// onlyProcessed returns the one set a poll processed.
func onlyProcessed(t *testing.T, pr *PollResult) *Result {
	t.Helper()
	if len(pr.Processed) != 1 {
		t.Fatalf("poll processed %d sets (unchanged %d); want 1", len(pr.Processed), pr.Unchanged)
	}
	return pr.Processed[0]
}

// wantDoneEarlier checks that the run did not repeat the action kind.
func wantDoneEarlier(t *testing.T, res *Result, kind string) {
	t.Helper()
	for _, a := range res.Actions {
		if a.Action == kind && (a.Status != StatusSkipped || a.Detail != detailDoneEarlier) {
			t.Errorf("retry: %s = %+v; want skipped, %q", kind, a, detailDoneEarlier)
		}
	}
	findAction(t, res, kind)
}

// ledgers are the ledger kinds a retry must work with (PostgreSQL when
// GHSYNC_TEST_POSTGRES_URL is set).
var ledgers = []struct {
	name string
	make func(t *testing.T, e *env) Ledger
}{
	{"memory", func(t *testing.T, e *env) Ledger { return e.ledger }},
	{"sqlite", func(t *testing.T, e *env) Ledger {
		d := dbtest.SQLite(t)
		if err := Migrate(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		return DBLedger{DB: d}
	}},
	{"postgres", func(t *testing.T, e *env) Ledger {
		d := dbtest.Postgres(t) // skipped without GHSYNC_TEST_POSTGRES_URL
		if err := Migrate(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		return DBLedger{DB: d}
	}},
	{"store", func(t *testing.T, e *env) Ledger { return StoreLedger{Bucket: e.final} }},
}

// TestRetryRepeatsOnlyTheFailedCallback: the callback answers 500 through
// the first run; the next poll calls back once more and repeats nothing
// else (no second issue, copy or email); the poll after that skips the
// set, now complete.
func TestRetryRepeatsOnlyTheFailedCallback(t *testing.T) {
	for _, lk := range ledgers {
		for _, tc := range []struct {
			name, file string
			pass       bool
		}{{"passing", "idox_eros.csv", true}, {"failing", "incomplete.csv", false}} {
			t.Run(lk.name+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t)
				e.deps.Ledger = lk.make(t, e)
				e.cfg.Callback.Attempts = 2
				e.cb.FailFirst(2, http.StatusInternalServerError)
				e.upload(tc.file, "f.csv")

				pr, err := e.poll()
				r1 := onlyProcessed(t, pr)
				if err == nil || !strings.Contains(err.Error(), "500") {
					t.Errorf("first poll: err = %v; want the callback's 500", err)
				}
				if r1.Attempt != 1 || r1.GaveUp || !slices.Equal(r1.FailedActions, []string{ActionCallback}) {
					t.Errorf("first run: attempt %d, gave up %v, failed %q; want 1, false, [callback]", r1.Attempt, r1.GaveUp, r1.FailedActions)
				}

				pr, err = e.poll()
				if err != nil {
					t.Fatalf("second poll: %v", err)
				}
				r2 := onlyProcessed(t, pr)
				if r2.Attempt != 2 || len(r2.FailedActions) != 0 || r2.Passed != tc.pass {
					t.Errorf("second run: attempt %d, failed %q, passed %v; want 2, none, %v", r2.Attempt, r2.FailedActions, r2.Passed, tc.pass)
				}
				if a := findAction(t, r2, ActionCallback); a.Status != StatusDone {
					t.Errorf("second run: callback = %+v; want done", a)
				}
				cbs := e.callbacks()
				if len(cbs) != 3 {
					t.Fatalf("callback requests = %d; want 3 (two failed tries, then one)", len(cbs))
				}
				issues := e.gh.Issues("DemocracyClub", "UK-Polling-Stations")
				if tc.pass {
					if len(issues) != 1 || len(issues[0].Comments) != 0 {
						t.Fatalf("issues = %+v; want one, never commented", issues)
					}
					wantDoneEarlier(t, r2, ActionGitHub)
					wantDoneEarlier(t, r2, ActionCopy)
					wantDoneEarlier(t, r2, ActionReport)
					if a := findAction(t, r2, ActionGitHub); a.Target != "DemocracyClub/UK-Polling-Stations" {
						t.Errorf("retry: github target = %q; want the repository", a.Target)
					}
					// The retried callback still names the issue raised by the first run.
					var doc struct {
						Issue string `json:"github_issue"`
					}
					if err := json.Unmarshal([]byte(cbs[2]), &doc); err != nil || doc.Issue != e.normalize(issues[0].HTMLURL) {
						t.Errorf("retried callback names issue %q (%v); want %s", doc.Issue, err, e.normalize(issues[0].HTMLURL))
					}
				} else {
					if len(e.smtp.Mails()) != 1 || len(issues) != 0 {
						t.Errorf("mails %d, issues %d; want 1, 0", len(e.smtp.Mails()), len(issues))
					}
					wantDoneEarlier(t, r2, ActionEmail)
				}
				var text bytes.Buffer
				if err := WriteResult(&text, r2); err != nil || !strings.Contains(text.String(), "attempt 2: performing only the actions earlier runs did not complete") {
					t.Errorf("text of the retry (%v):\n%s", err, text.String())
				}
				if cbs[2] != cbs[0] {
					t.Errorf("the retried callback sent another report:\n%s\nwant\n%s", cbs[2], cbs[0])
				}

				pr, err = e.poll()
				if err != nil || len(pr.Processed) != 0 || pr.Unchanged != 1 || pr.GaveUp != 0 {
					t.Fatalf("third poll = %+v, %v; want the complete set skipped", pr, err)
				}
				if n := len(e.cb.Requests()); n != 3 {
					t.Errorf("callback requests after the third poll = %d; want still 3", n)
				}
			})
		}
	}
}

// TestRetryGitHubIssueNeverDuplicates: issue creation fails (refused, or
// done but the answer lost); the retry leaves exactly one issue and does
// not call back a second time.
func TestRetryGitHubIssueNeverDuplicates(t *testing.T) {
	const route = "POST /repos/{owner}/{repo}/issues"
	for _, tc := range []struct {
		name     string
		fail     func(e *env)
		comments int
	}{
		{"refused", func(e *env) { e.gh.Fail(route, http.StatusServiceUnavailable, 1) }, 0},
		// Created, but the answer never arrived: the retry finds the open
		// issue with this very body and adopts it (no "Updated" comment).
		{"answer lost", func(e *env) {
			var done atomic.Bool
			e.gh.Tamper(route, func(status int, h http.Header, body []byte) (int, []byte) {
				if done.CompareAndSwap(false, true) {
					h.Set("Content-Type", "application/json; charset=utf-8")
					return http.StatusServiceUnavailable, []byte(`{"message":"Service Unavailable"}`)
				}
				return status, body
			})
		}, 0},
		// An older upload's issue is open: the set comments on it, the
		// comment is made but its answer is lost; the retry finds its
		// comment last on the issue and does not comment again.
		{"comment answer lost", func(e *env) {
			e.gh.AddIssue("DemocracyClub", "UK-Polling-Stations", githubtestIssue("Import E07000223-Example Council for 2026-05-07", "Data Import"))
			const comments = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"
			var done atomic.Bool
			e.gh.Tamper(comments, func(status int, h http.Header, body []byte) (int, []byte) {
				if done.CompareAndSwap(false, true) {
					h.Set("Content-Type", "application/json; charset=utf-8")
					return http.StatusServiceUnavailable, []byte(`{"message":"Service Unavailable"}`)
				}
				return status, body
			})
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			// No retries inside the client: the failure reaches the pipeline.
			gc, err := github.New(github.Config{BaseURL: e.gh.URL, Token: ghToken, HTTPClient: e.gh.Client(), MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			e.deps.GitHub = gc
			tc.fail(e)
			e.upload("idox_eros.csv", "f.csv")

			pr, err := e.poll()
			r1 := onlyProcessed(t, pr)
			if err == nil || findAction(t, r1, ActionGitHub).Status != StatusFailed || !slices.Equal(r1.FailedActions, []string{ActionGitHub}) {
				t.Fatalf("first run: err %v, failed %q, github %+v; want the github action failed", err, r1.FailedActions, findAction(t, r1, ActionGitHub))
			}
			pr, err = e.poll()
			if err != nil {
				t.Fatalf("second poll: %v", err)
			}
			r2 := onlyProcessed(t, pr)
			if a := findAction(t, r2, ActionGitHub); a.Status != StatusDone {
				t.Errorf("retry: github = %+v; want done", a)
			}
			wantDoneEarlier(t, r2, ActionCallback)
			issues := e.gh.Issues("DemocracyClub", "UK-Polling-Stations")
			if len(issues) != 1 || len(issues[0].Comments) != tc.comments {
				t.Errorf("issues = %+v; want exactly one, with %d comment(s)", issues, tc.comments)
			}
			if n := len(e.cb.Requests()); n != 1 {
				t.Errorf("callback requests = %d; want 1 (the first run's went out)", n)
			}
			if r2.Report.GitHubIssue != issues[0].HTMLURL {
				t.Errorf("retry's report names issue %q; want %q", r2.Report.GitHubIssue, issues[0].HTMLURL)
			}
		})
	}
}

// TestRetryCopyFailure: the final store cannot be opened in the first run;
// the retry copies the file and writes report.json (which names the issue
// the first run raised), and repeats neither the issue nor the callback.
func TestRetryCopyFailure(t *testing.T) {
	e := newEnv(t)
	var refuse atomic.Int32
	refuse.Store(1)
	e.deps.OpenStore = func(ctx context.Context, u string) (*store.Bucket, error) {
		if u == e.cfg.Final && refuse.Add(-1) >= 0 {
			return nil, errors.New("final store unreachable")
		}
		return store.Open(ctx, u, store.Options{})
	}
	e.upload("idox_eros.csv", "f.csv")
	pr, err := e.poll()
	r1 := onlyProcessed(t, pr)
	if want := []string{ActionKey(ActionCopy, setPrefix+"f.csv"), ActionReport}; err == nil || !slices.Equal(r1.FailedActions, want) {
		t.Fatalf("first run: err %v, failed %q; want %q", err, r1.FailedActions, want)
	}
	if len(e.finalKeys()) != 0 {
		t.Fatalf("final = %q after a failed copy", e.finalKeys())
	}
	pr, err = e.poll()
	if err != nil {
		t.Fatalf("second poll: %v", err)
	}
	r2 := onlyProcessed(t, pr)
	if a := findAction(t, r2, ActionCopy); a.Status != StatusDone {
		t.Errorf("retry: copy = %+v; want done", a)
	}
	wantDoneEarlier(t, r2, ActionGitHub)
	wantDoneEarlier(t, r2, ActionCallback)
	if got, want := e.finalKeys(), []string{setPrefix + "f.csv", setPrefix + "report.json"}; !slices.Equal(got, want) {
		t.Errorf("final = %q; want %q", got, want)
	}
	issues := e.gh.Issues("DemocracyClub", "UK-Polling-Stations")
	if len(issues) != 1 || len(e.cb.Requests()) != 1 {
		t.Fatalf("%d issues, %d callbacks; want 1 and 1", len(issues), len(e.cb.Requests()))
	}
	if rep := string(e.finalReport()); !strings.Contains(rep, e.normalize(issues[0].HTMLURL)) {
		t.Errorf("report.json does not name the issue %s: %s", issues[0].HTMLURL, rep)
	}
}

// TestRetryGivesUpAfterMaxAttempts: a callback that keeps failing is tried
// by max_attempts runs, then the set is given up on — skipped without an
// error, shown as given up — until it changes.
func TestRetryGivesUpAfterMaxAttempts(t *testing.T) {
	e := newEnv(t)
	e.cfg.MaxAttempts = 3
	e.cfg.Callback.Attempts = 1
	e.cb.Reply(http.StatusInternalServerError, "down")
	e.upload("incomplete.csv", "f.csv")
	for i := 1; i <= 3; i++ {
		pr, err := e.poll()
		r := onlyProcessed(t, pr)
		if err == nil || r.Attempt != i || r.GaveUp != (i == 3) {
			t.Fatalf("poll %d: err %v, attempt %d, gave up %v; want an error, attempt %d, gave up %v", i, err, r.Attempt, r.GaveUp, i, i == 3)
		}
	}
	if n := len(e.cb.Requests()); n != 3 {
		t.Errorf("callback requests = %d; want 3 (one per run)", n)
	}
	if n := len(e.smtp.Mails()); n != 1 {
		t.Errorf("mails = %d; want 1 (sent by the first run only)", n)
	}

	pr, err := e.poll()
	if err != nil {
		t.Fatalf("poll after giving up: %v (a given-up set must not fail every poll)", err)
	}
	if len(pr.Processed) != 0 || pr.Unchanged != 1 || pr.GaveUp != 1 || !slices.Equal(pr.GaveUpSets, []string{setPrefix}) {
		t.Errorf("poll after giving up = %+v; want the set unchanged and counted as given up", pr)
	}
	bucket := strings.TrimPrefix(e.cfg.Watch, "mem://")
	er, err := ProcessEvent(context.Background(), e.deps, e.cfg, []EventObject{{Bucket: bucket, Key: setPrefix + "f.csv"}}, RunOptions{})
	if err != nil || len(er.Results) != 1 {
		t.Fatalf("redelivered event: %+v, %v", er, err)
	}
	r := er.Results[0]
	if !r.Skipped || !r.GaveUp || r.Attempt != 3 || !slices.Equal(r.FailedActions, []string{ActionCallback}) {
		t.Errorf("redelivered event result = %+v; want skipped, given up after 3 attempts on the callback", r)
	}
	var text bytes.Buffer
	if err := WriteResult(&text, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "gave up after 3 attempt(s): callback not done") {
		t.Errorf("text of a given-up set:\n%s", text.String())
	}
	if n := len(e.cb.Requests()); n != 3 {
		t.Errorf("callback requests = %d after giving up; want still 3", n)
	}

	// A changed set starts again, in full.
	e.cb.Reply(http.StatusOK, "{}")
	e.upload("incomplete.csv", "g.csv")
	pr, err = e.poll()
	if err != nil {
		t.Fatalf("poll after a change: %v", err)
	}
	if r := onlyProcessed(t, pr); r.Attempt != 1 || r.GaveUp || len(e.smtp.Mails()) != 2 || len(e.cb.Requests()) != 4 {
		t.Errorf("changed set: attempt %d, gave up %v, %d mails, %d callbacks; want 1, false, 2, 4",
			r.Attempt, r.GaveUp, len(e.smtp.Mails()), len(e.cb.Requests()))
	}
}

// TestRunByHandRepeatsEverything: --key (no SkipUnchanged) performs every
// action even when the ledger holds the set, as documented.
func TestRunByHandRepeatsEverything(t *testing.T) {
	e := newEnv(t)
	e.upload("incomplete.csv", "f.csv")
	if _, err := e.poll(); err != nil {
		t.Fatal(err)
	}
	res := e.process(setPrefix, RunOptions{})
	if res.Attempt != 1 || findAction(t, res, ActionEmail).Status != StatusDone || len(e.smtp.Mails()) != 2 {
		t.Errorf("run by hand: attempt %d, email %+v, %d mails; want 1, done, 2", res.Attempt, findAction(t, res, ActionEmail), len(e.smtp.Mails()))
	}
}

// TestStoreLedgerReadsOldRecords: a record written before retries existed
// (no complete/attempts/done fields) reads as complete, processed once; a
// new record round-trips.
func TestStoreLedgerReadsOldRecords(t *testing.T) {
	ctx := context.Background()
	b, err := store.Open(ctx, "mem://ledger-old-records", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	l := StoreLedger{Bucket: b}
	old := `{"prefix":"E1/2026-05-07/t/","fingerprint":"abc123","passed":true,"files":2,"processed_at":"2026-04-01T10:00:00Z"}`
	if _, err := b.Put(ctx, ledgerKey("wdiv", "E1/2026-05-07/t/"), strings.NewReader(old), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rec, found, err := l.Get(ctx, "wdiv", "E1/2026-05-07/t/")
	if err != nil || !found {
		t.Fatalf("Get = %v, %v", found, err)
	}
	if !rec.Complete || rec.Attempts != 1 || rec.Fingerprint != "abc123" || !rec.Passed || rec.Files != 2 ||
		len(rec.Done) != 0 || len(rec.Failed) != 0 || rec.GaveUp() || rec.At.Format("2006-01-02T15:04:05Z07:00") != "2026-04-01T10:00:00Z" {
		t.Errorf("old record read as %+v; want complete, one attempt, nothing failed", rec)
	}

	want := LedgerRecord{Fingerprint: "def", Passed: true, Files: 1, At: rec.At, Attempts: 2,
		Done: []string{"copy:a.csv", ActionGitHub}, Failed: []string{ActionCallback}, Issue: "https://github.com/o/r/issues/3"}
	if err := l.Put(ctx, "wdiv", "E2/", want, nil); err != nil {
		t.Fatal(err)
	}
	got, found, err := l.Get(ctx, "wdiv", "E2/")
	if err != nil || !found || !equalRecords(got, want) {
		t.Errorf("round trip: %+v, %v, %v; want %+v", got, found, err, want)
	}
	if _, _, err := (StoreLedger{Bucket: b}).Get(ctx, "wdiv", "missing/"); err != nil {
		t.Errorf("missing record: %v", err)
	}
	if _, err := b.Put(ctx, ledgerKey("wdiv", "bad/"), strings.NewReader("{not json"), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Get(ctx, "wdiv", "bad/"); err == nil || !strings.Contains(err.Error(), ledgerKey("wdiv", "bad/")) {
		t.Errorf("corrupt record: err = %v; want an error naming the object", err)
	}
}

// TestStoreLedgerOldRecordSkipsSet: a set recorded by the old version, in
// the old format, is not processed again.
func TestStoreLedgerOldRecordSkipsSet(t *testing.T) {
	e := newEnv(t)
	e.deps.Ledger = StoreLedger{Bucket: e.final}
	e.upload("idox_eros.csv", "f.csv")
	if _, err := e.poll(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := ledgerKey(e.cfg.Name, setPrefix)
	b, _, err := e.final.Read(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"complete", "attempts", "done", "failed", "github_issue"} {
		delete(m, k)
	}
	b, _ = json.Marshal(m)
	if _, err := e.final.Put(ctx, key, bytes.NewReader(b), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	pr, err := e.poll()
	if err != nil || pr.Unchanged != 1 || len(pr.Processed) != 0 {
		t.Errorf("poll over an old-format record = %+v, %v; want the set unchanged", pr, err)
	}
	if n := len(e.cb.Requests()); n != 1 {
		t.Errorf("callbacks = %d; want 1", n)
	}
}

func TestMaxAttemptsValidated(t *testing.T) {
	c := &Config{Watch: "mem://x", MaxAttempts: -1}
	errs := c.Validate()
	if len(errs) != 1 || errs[0].Field != "max_attempts" {
		t.Errorf("Validate = %v; want one max_attempts error", errs)
	}
	if n := (&Config{}).Attempts(); n != DefaultMaxAttempts {
		t.Errorf("default attempts = %d", n)
	}
	if n := (&Config{MaxAttempts: 4}).Attempts(); n != 4 {
		t.Errorf("attempts = %d; want 4", n)
	}
}

func equalRecords(a, b LedgerRecord) bool {
	return a.Fingerprint == b.Fingerprint && a.Passed == b.Passed && a.Files == b.Files && a.At.Equal(b.At) &&
		a.Complete == b.Complete && a.Attempts == b.Attempts && slices.Equal(a.Done, b.Done) &&
		slices.Equal(a.Failed, b.Failed) && a.Issue == b.Issue
}

// TestDBLedgerMigratesOldRows: a row written before migration 0002 reads,
// after it, as complete and processed once; a record with every new field
// round-trips. SQLite always, PostgreSQL when GHSYNC_TEST_POSTGRES_URL is set.
func TestDBLedgerMigratesOldRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		first, err := fs.ReadFile(migrationsFS, "migrations/0001_inbox_sets.sql")
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Migrate(ctx, "inbox", fstest.MapFS{"0001_inbox_sets.sql": {Data: first}}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Exec(ctx, `INSERT INTO inbox_sets (job, set_prefix, fingerprint, passed, files, processed_at)
			VALUES (?, ?, ?, ?, ?, ?)`, "wdiv", "E1/", "abc123", 1, 2, "2026-04-01T10:00:00Z"); err != nil {
			t.Fatal(err)
		}
		if err := Migrate(ctx, d); err != nil {
			t.Fatalf("migrate over the old table: %v", err)
		}
		l := DBLedger{DB: d}
		rec, found, err := l.Get(ctx, "wdiv", "E1/")
		if err != nil || !found {
			t.Fatalf("Get = %v, %v", found, err)
		}
		if !rec.Complete || rec.Attempts != 1 || rec.Fingerprint != "abc123" || !rec.Passed || rec.Files != 2 ||
			len(rec.Done) != 0 || len(rec.Failed) != 0 || rec.Issue != "" {
			t.Errorf("old row read as %+v; want complete, one attempt, nothing failed", rec)
		}
		want := LedgerRecord{Fingerprint: "def", Passed: false, Files: 1, At: rec.At, Attempts: 4,
			Done: []string{ActionEmail}, Failed: []string{ActionCallback}}
		for _, complete := range []bool{false, true} {
			want.Complete = complete
			if err := l.Put(ctx, "wdiv", "E1/", want, nil); err != nil {
				t.Fatal(err)
			}
			got, found, err := l.Get(ctx, "wdiv", "E1/")
			if err != nil || !found || !equalRecords(got, want) {
				t.Errorf("round trip: %+v, %v, %v; want %+v", got, found, err, want)
			}
		}
		if _, found, err := l.Get(ctx, "wdiv", "missing/"); found || err != nil {
			t.Errorf("missing row: found %v, err %v", found, err)
		}
	})
}
