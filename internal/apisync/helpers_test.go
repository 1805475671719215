package apisync_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/apisync"
	"github.com/ghsync/ghsync/internal/apisync/apisynctest"
	"github.com/ghsync/ghsync/internal/db"
)

const (
	testBase  = "appTESTBASE000001"
	testToken = "patSECRETtoken.abcdef0123456789"
)

// sleeps records the waits a run asked for and returns at once.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// testDeps are Deps with an unlimited pace, recorded sleeps and a debug log
// captured in logs.
func testDeps(t *testing.T, d *db.DB) (apisync.Deps, *sleeps, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	var mu sync.Mutex
	s := &sleeps{}
	return apisync.Deps{
		DB:       d,
		Limiters: apisync.NewRateLimiters(math.Inf(1)),
		Logger:   slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Sleep:    s.sleep,
	}, s, &logs
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// genRecords makes n records rec00000…: Name, Score, Tags (a list), Done (a
// checkbox, false on odd ones so omitted) and Notes ("" on every third, so
// omitted).
func genRecords(n int) []apisynctest.AirtableRecord {
	recs := make([]apisynctest.AirtableRecord, n)
	for i := range recs {
		recs[i] = apisynctest.AirtableRecord{
			ID:          fmt.Sprintf("rec%014d", i),
			CreatedTime: time.Date(2024, 1, 1, 0, 0, i%60, 0, time.UTC).Format("2006-01-02T15:04:05.000Z"),
			Fields: map[string]any{
				"Name":  fmt.Sprintf("Assessment %d", i),
				"Score": float64(i) + 0.5,
				"Tags":  []any{"r", fmt.Sprintf("t%d", i%7)},
				"Done":  i%2 == 0,
				"Notes": map[bool]string{true: "", false: fmt.Sprintf("note %d", i)}[i%3 == 0],
			},
		}
	}
	return recs
}

// writeCounter installs triggers counting every row inserted, updated or
// deleted in table, independently of what the sync reports.
func writeCounter(t *testing.T, d *db.DB, table string) func() int {
	t.Helper()
	ctx := context.Background()
	cnt := table + "_writes"
	stmts := []string{
		"CREATE TABLE " + cnt + " (n INTEGER NOT NULL)",
		"INSERT INTO " + cnt + " (n) VALUES (0)",
	}
	switch d.Dialect() {
	case db.Postgres:
		stmts = append(stmts,
			"CREATE FUNCTION "+cnt+"_bump() RETURNS trigger AS $$ BEGIN UPDATE "+cnt+" SET n = n + 1; RETURN NULL; END $$ LANGUAGE plpgsql",
			"CREATE TRIGGER "+cnt+"_t AFTER INSERT OR UPDATE OR DELETE ON "+table+" FOR EACH ROW EXECUTE FUNCTION "+cnt+"_bump()")
	case db.MySQL:
		for _, ev := range []string{"INSERT", "UPDATE", "DELETE"} {
			stmts = append(stmts, "CREATE TRIGGER "+cnt+"_"+ev+" AFTER "+ev+" ON "+table+" FOR EACH ROW UPDATE "+cnt+" SET n = n + 1")
		}
	default:
		for _, ev := range []string{"INSERT", "UPDATE", "DELETE"} {
			stmts = append(stmts, "CREATE TRIGGER "+cnt+"_"+ev+" AFTER "+ev+" ON "+table+" BEGIN UPDATE "+cnt+" SET n = n + 1; END")
		}
	}
	for _, s := range stmts {
		if _, err := d.Exec(ctx, s); err != nil {
			t.Fatalf("install write counter: %s: %v", s, err)
		}
	}
	return func() int {
		var n int
		if err := d.QueryRow(ctx, "SELECT n FROM "+cnt).Scan(&n); err != nil {
			t.Fatalf("read write counter: %v", err)
		}
		if _, err := d.Exec(ctx, "UPDATE "+cnt+" SET n = 0"); err != nil {
			t.Fatal(err)
		}
		return n
	}
}

func countRows(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

type counts struct{ ins, upd, unch, del int }

func wantCounts(t *testing.T, s *apisync.Summary, table string, want counts) {
	t.Helper()
	c := s.Tables[table]
	if c == nil {
		t.Fatalf("summary has no table %s: %+v", table, s.Tables)
	}
	got := counts{c.Inserted, c.Updated, c.Unchanged, c.Deleted}
	if got != want {
		t.Fatalf("%s: inserted/updated/unchanged/deleted = %+v, want %+v", table, got, want)
	}
}

func quoteIdent(d *db.DB, id string) string {
	if d.Dialect() == db.MySQL {
		return "`" + id + "`"
	}
	return `"` + id + `"`
}

// checkRow checks one row of the assessment table.
func checkRow(t *testing.T, d *db.DB, id, name string, score float64, tags string, done bool, notes string) {
	t.Helper()
	q := fmt.Sprintf("SELECT %s, %s, %s, %s, %s FROM assessment WHERE id = ?",
		quoteIdent(d, "Name"), quoteIdent(d, "Score"), quoteIdent(d, "Tags"), quoteIdent(d, "Done"), quoteIdent(d, "Notes"))
	var gotName, gotTags string
	var gotScore float64
	var gotDone bool
	var gotNotes sql.NullString
	if err := d.QueryRow(context.Background(), q, id).Scan(&gotName, &gotScore, &gotTags, &gotDone, &gotNotes); err != nil {
		t.Fatalf("row %s: %v", id, err)
	}
	if gotName != name || gotScore != score || gotTags != tags || gotDone != done || gotNotes.String != notes || gotNotes.Valid != (notes != "") {
		t.Fatalf("row %s = %q %v %q %v %+v; want %q %v %q %v %q", id, gotName, gotScore, gotTags, gotDone, gotNotes, name, score, tags, done, notes)
	}
}

// genExtra makes n more records with ids from start.
func genExtra(n, start int) []apisynctest.AirtableRecord {
	recs := genRecords(start + n)[start:]
	return recs
}

// expireAfter is an HTTP client that invalidates the fake's iterators after
// the nth response, as if the offset expired between two pages.
func expireAfter(fake *apisynctest.Airtable, n int) *http.Client {
	var mu sync.Mutex
	seen := 0
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		mu.Lock()
		seen++
		if seen == n {
			fake.ExpireIterators()
		}
		mu.Unlock()
		return resp, err
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
