package apisync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/apisync"
	"github.com/ghsync/ghsync/internal/apisync/apisynctest"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
)

// TestAirtableSuite is the first figure on every dialect: 2,500
// records cold, a steady state that writes nothing, 10 changed / 5 added / 5
// deleted, a new upstream field, and a listing failing halfway.
func TestAirtableSuite(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fake := apisynctest.NewAirtable(t, testToken)
		fake.LimitPerSecond = 0 // pacing has its own test
		recs := genRecords(2500)
		fake.SetRecords(testBase, "Assessments", recs)
		deps, _, logs := testDeps(t, d)
		cfg := apisync.AirtableConfig{Base: testBase, Table: "Assessments", Token: testToken,
			Target: "assessment", DeleteMissing: true, APIURL: fake.URL()}

		// Cold run: everything inserted, one page per 100 records.
		sum, err := apisync.SyncAirtable(ctx, deps, cfg, apisync.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, sum, "assessment", counts{ins: 2500})
		if sum.Pages != 25 || sum.Requests != 25 || !sum.Tables["assessment"].Created {
			t.Fatalf("pages=%d requests=%d created=%v; want 25, 25, true", sum.Pages, sum.Requests, sum.Tables["assessment"].Created)
		}
		if n := countRows(t, d, "assessment"); n != 2500 {
			t.Fatalf("rows = %d", n)
		}
		checkRow(t, d, "rec00000000000004", "Assessment 4", 4.5, "r,t4", true, "note 4")
		checkRow(t, d, "rec00000000000003", "Assessment 3", 3.5, "r,t3", false, "") // omitted false and ""
		writes := writeCounter(t, d, "assessment")

		// Steady state: nothing written, every row unchanged.
		sum, err = apisync.SyncAirtable(ctx, deps, cfg, apisync.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, sum, "assessment", counts{unch: 2500})
		if n := writes(); n != 0 || sum.Statements != 0 {
			t.Fatalf("steady state wrote %d rows in %d statements; want 0", n, sum.Statements)
		}

		// 10 changed, 5 added, 5 deleted upstream.
		recs = fake.Records(testBase, "Assessments")
		for i := 100; i < 110; i++ {
			recs[i].Fields["Score"] = 1000.25
		}
		recs = append(recs[:2000], recs[2005:]...)
		recs = append(recs, genExtra(5, 9000)...)
		fake.SetRecords(testBase, "Assessments", recs)
		sum, err = apisync.SyncAirtable(ctx, deps, cfg, apisync.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, sum, "assessment", counts{ins: 5, upd: 10, unch: 2485, del: 5})
		if n := writes(); n != 20 {
			t.Fatalf("rows written = %d, want 20", n)
		}
		checkRow(t, d, "rec00000000000104", "Assessment 104", 1000.25, "r,t6", true, "note 104")

		// A new upstream field adds a column; rows without it are unchanged.
		recs = fake.Records(testBase, "Assessments")
		for i := 0; i < 3; i++ {
			recs[i].Fields["Latest Release"] = fmt.Sprintf("v1.%d", i)
		}
		fake.SetRecords(testBase, "Assessments", recs)
		sum, err = apisync.SyncAirtable(ctx, deps, cfg, apisync.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, sum, "assessment", counts{upd: 3, unch: 2497})
		if got := sum.Tables["assessment"].AddedColumns; len(got) != 1 || got[0] != "Latest Release" {
			t.Fatalf("added columns = %v", got)
		}
		var rel string
		q := fmt.Sprintf("SELECT %s FROM assessment WHERE id = ?", quoteIdent(d, "Latest Release"))
		if err := d.QueryRow(ctx, q, "rec00000000000002").Scan(&rel); err != nil || rel != "v1.2" {
			t.Fatalf("Latest Release = %q, %v", rel, err)
		}
		writes()

		// A listing failing halfway writes its first pages but deletes nothing.
		recs = fake.Records(testBase, "Assessments")
		recs = recs[5:]
		recs[10].Fields["Name"] = "renamed"
		fake.SetRecords(testBase, "Assessments", recs)
		fake.InjectAt(12, apisynctest.InjectForbidden)
		sum, err = apisync.SyncAirtable(ctx, deps, cfg, apisync.RunOptions{})
		if err == nil || !strings.Contains(err.Error(), "nothing deleted") || !strings.Contains(err.Error(), "INVALID_PERMISSIONS") {
			t.Fatalf("err = %v; want the 403 and 'nothing deleted'", err)
		}
		if n := countRows(t, d, "assessment"); n != 2500 {
			t.Fatalf("rows after a failed listing = %d, want 2500 (nothing deleted)", n)
		}
		if n := writes(); n != 1 || sum.Tables["assessment"].Updated != 1 {
			t.Fatalf("failed run wrote %d rows (updated %d); want the 1 change of its first pages", n, sum.Tables["assessment"].Updated)
		}
		// The next complete listing deletes them.
		sum, err = apisync.SyncAirtable(ctx, deps, cfg, apisync.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, sum, "assessment", counts{unch: 2495, del: 5})
		if strings.Contains(logs.String(), testToken) {
			t.Fatal("the token appears in the log")
		}
	})
}

// TestAirtableRestartOnExpiredIterator: a 422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE
// restarts the listing; counts stay exact and delete_missing still works.
func TestAirtableRestartOnExpiredIterator(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fake := apisynctest.NewAirtable(t, testToken)
		fake.LimitPerSecond = 0
		fake.SetRecords(testBase, "T", genRecords(450))
		deps, _, _ := testDeps(t, d)
		cfg := apisync.AirtableConfig{Base: testBase, Table: "T", Token: testToken, Target: "t_restart",
			DeleteMissing: true, APIURL: fake.URL()}
		fake.InjectAt(3, apisynctest.InjectExpired)
		sum, err := apisync.SyncAirtable(ctx, deps, cfg, apisync.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, sum, "t_restart", counts{ins: 450})
		if sum.Restarts != 1 || sum.Pages != 3+5 {
			t.Fatalf("restarts=%d pages=%d; want 1 and 8", sum.Restarts, sum.Pages)
		}
		// An offset that really expired between pages (the fake's iterators
		// are invalidated) is also restarted.
		recs := fake.Records(testBase, "T")[:440]
		fake.SetRecords(testBase, "T", recs)
		deps.HTTP = expireAfter(fake, 2)
		sum, err = apisync.SyncAirtable(ctx, deps, cfg, apisync.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, sum, "t_restart", counts{unch: 440, del: 10})
		if sum.Restarts != 1 {
			t.Fatalf("restarts = %d", sum.Restarts)
		}
		if n := countRows(t, d, "t_restart"); n != 440 {
			t.Fatalf("rows = %d", n)
		}
	})
}

// TestAirtableRateLimitedWaits: a 429 is waited out (30 s, the API's penalty)
// and the run completes.
func TestAirtableRateLimitedWaits(t *testing.T) {
	d := dbtest.SQLite(t)
	fake := apisynctest.NewAirtable(t, testToken)
	fake.LimitPerSecond = 0
	fake.SetRecords(testBase, "T", genRecords(250))
	deps, slept, _ := testDeps(t, d)
	fake.InjectAt(1, apisynctest.Inject429)
	fake.InjectAt(1, apisynctest.Inject429)
	cfg := apisync.AirtableConfig{Base: testBase, Table: "T", Token: testToken, Target: "t", APIURL: fake.URL()}
	sum, err := apisync.SyncAirtable(context.Background(), deps, cfg, apisync.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, sum, "t", counts{ins: 250})
	if sum.RateLimited != 2 || sum.Requests != 5 {
		t.Fatalf("rate_limited=%d requests=%d; want 2 and 5", sum.RateLimited, sum.Requests)
	}
	waits := slept.all()
	if len(waits) != 2 || waits[0] < 29*time.Second || waits[0] > 30*time.Second {
		t.Fatalf("waits = %v; want two of ~30s", waits)
	}
}

// TestAirtableSharedLimiter: two jobs on one base, running at once with the
// process's shared limiters, never exceed the fake's real 5/s limit.
func TestAirtableSharedLimiter(t *testing.T) {
	if testing.Short() {
		t.Skip("takes ~5 s of real pacing")
	}
	fake := apisynctest.NewAirtable(t, testToken) // 5 requests/s per base, 30 s penalty
	fake.SetRecords(testBase, "A", genRecords(1000))
	fake.SetRecords(testBase, "B", genRecords(1000))
	lims := apisync.NewRateLimiters(apisync.DefaultAirtableRate)
	errs := make(chan error, 2)
	for _, tbl := range []string{"A", "B"} {
		d := dbtest.SQLite(t)
		deps, _, _ := testDeps(t, d)
		deps.Limiters = lims
		deps.Sleep = nil // real waits: a 429 here would cost 30 s and fail the count below
		cfg := apisync.AirtableConfig{Base: testBase, Table: tbl, Token: testToken, Target: "t", APIURL: fake.URL()}
		go func() {
			sum, err := apisync.SyncAirtable(context.Background(), deps, cfg, apisync.RunOptions{})
			if err == nil && (sum.Tables["t"].Inserted != 1000 || sum.RateLimited != 0) {
				err = fmt.Errorf("table %s: %+v rate_limited=%d", tbl, sum.Tables["t"], sum.RateLimited)
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if v, m := fake.Violations(), fake.MaxPerSecond(); v != 0 || m > 5 {
		t.Fatalf("fake saw %d violations, at most %d requests in one second; want 0 and <= 5", v, m)
	}
	if fake.Requests() != 20 {
		t.Fatalf("requests = %d, want 20", fake.Requests())
	}
}

// TestAirtableFakeLimiter shows the fake's limiter is real: a sixth request
// within one second is refused with Airtable's body, and the base is penalised.
func TestAirtableFakeLimiter(t *testing.T) {
	fake := apisynctest.NewAirtable(t, testToken)
	fake.SetRecords(testBase, "T", genRecords(1))
	var codes []int
	for range 7 {
		req, _ := http.NewRequest("GET", fake.URL()+"/v0/"+testBase+"/T", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 && !strings.Contains(fmt.Sprint(body), "RATE_LIMIT_REACHED") {
			t.Fatalf("429 body = %v", body)
		}
	}
	if fmt.Sprint(codes) != "[200 200 200 200 200 429 429]" || fake.Violations() != 1 {
		t.Fatalf("codes = %v, violations = %d", codes, fake.Violations())
	}
}

// TestAirtableServerErrorRetried: a 5xx is retried after a back-off; the run
// completes and the summary's text says what happened.
func TestAirtableServerErrorRetried(t *testing.T) {
	d := dbtest.SQLite(t)
	fake := apisynctest.NewAirtable(t, testToken)
	fake.LimitPerSecond = 0
	fake.SetRecords(testBase, "T", genRecords(150))
	deps, slept, _ := testDeps(t, d)
	fake.InjectAt(1, apisynctest.Inject500)
	cfg := apisync.AirtableConfig{Base: testBase, Table: "T", Token: testToken, Target: "t", APIURL: fake.URL()}
	sum, err := apisync.SyncAirtable(context.Background(), deps, cfg, apisync.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, sum, "t", counts{ins: 150})
	if w := slept.all(); len(w) != 1 || w[0] != time.Second || sum.Requests != 3 {
		t.Fatalf("waits %v, requests %d", w, sum.Requests)
	}
	if got := sum.Text(); !strings.HasPrefix(got, "t: 150 inserted, 0 updated, 0 unchanged, 0 deleted (table created); 2 pages, 3 requests") || sum.Changes() != 150 {
		t.Fatalf("text = %q, changes = %d", got, sum.Changes())
	}
}
