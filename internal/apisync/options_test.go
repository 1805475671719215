package apisync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/apisync"
	"github.com/ghsync/ghsync/internal/apisync/apisynctest"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
)

// TestAirtableDryRun: a dry run fetches and plans but creates nothing; on an
// existing table it reports the changes it would make without making them.
func TestAirtableDryRun(t *testing.T) {
	d := dbtest.SQLite(t)
	ctx := context.Background()
	fake := apisynctest.NewAirtable(t, testToken)
	fake.LimitPerSecond = 0
	fake.SetRecords(testBase, "T", genRecords(150))
	deps, _, _ := testDeps(t, d)
	cfg := apisync.AirtableConfig{Base: testBase, Table: "T", Token: testToken, Target: "assessment", DeleteMissing: true, APIURL: fake.URL()}
	sum, err := apisync.SyncAirtable(ctx, deps, cfg, apisync.RunOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, sum, "assessment", counts{ins: 150})
	if !sum.DryRun || !sum.Tables["assessment"].Created || sum.Statements != 0 {
		t.Fatalf("summary = %+v", sum)
	}
	var n int
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'assessment'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("dry run created the table (%d, %v)", n, err)
	}
	if _, err := apisync.SyncAirtable(ctx, deps, cfg, apisync.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	writes := writeCounter(t, d, "assessment")
	recs := fake.Records(testBase, "T")
	recs[0].Fields["Name"] = "changed"
	recs[1].Fields["New Field"] = "x"
	fake.SetRecords(testBase, "T", recs[:149])
	sum, err = apisync.SyncAirtable(ctx, deps, cfg, apisync.RunOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, sum, "assessment", counts{upd: 2, unch: 147, del: 1})
	if got := sum.Tables["assessment"].AddedColumns; len(got) != 1 || got[0] != "New Field" {
		t.Fatalf("would add %v", got)
	}
	if n := writes(); n != 0 || sum.Statements != 0 {
		t.Fatalf("dry run wrote %d rows, %d statements", n, sum.Statements)
	}
	checkRow(t, d, "rec00000000000000", "Assessment 0", 0.5, "r,t0", true, "")
}

// TestAirtableMapping: fields maps fields to columns (and is sent as
// fields[]), types fixes column types, lists: json stores lists as JSON, view
// and filter reach the API, and require_table refuses a missing table.
func TestAirtableMapping(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fake := apisynctest.NewAirtable(t, testToken)
		fake.LimitPerSecond = 0
		recs := genRecords(30)
		recs[3].Fields["Attach"] = []any{map[string]any{"id": "att1", "url": "https://dl.airtable.com/a.png", "filename": "a.png"}}
		fake.SetRecords(testBase, "T", recs)
		var ids []string
		for _, r := range recs[:20] {
			ids = append(ids, r.ID)
		}
		fake.SetView(testBase, "T", "Published", ids)
		deps, _, _ := testDeps(t, d)
		cfg := apisync.AirtableConfig{Base: testBase, Table: "T", Token: testToken, Target: "mapped", APIURL: fake.URL(),
			Fields: map[string]string{"Name": "name", "Score": "score", "Tags": "tags", "Attach": "attachments", "Level": "level"},
			Types:  map[string]string{"score": "integer", "level": "integer"},
			Lists:  apisync.ListsJSON, View: "Published", Filter: "NOT({Name} = '')", PageSize: 7}
		for i := range recs {
			recs[i].Fields["Score"] = float64(i)
		}
		fake.SetRecords(testBase, "T", recs)
		req := cfg
		req.RequireTable = true
		if _, err := apisync.SyncAirtable(ctx, deps, req, apisync.RunOptions{}); err == nil || !strings.Contains(err.Error(), "require_table") {
			t.Fatalf("require_table on a missing table: %v", err)
		}
		sum, err := apisync.SyncAirtable(ctx, deps, cfg, apisync.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, sum, "mapped", counts{ins: 20})
		if sum.Pages != 3 {
			t.Fatalf("pages = %d, want 3 (20 records, pageSize 7)", sum.Pages)
		}
		if f := fake.FieldsRequested(); len(f) == 0 || strings.Join(f[0], ",") != "Attach,Level,Name,Score,Tags" {
			t.Fatalf("fields[] = %v", f)
		}
		if f := fake.Formulas(); len(f) != 3 || f[0] != "NOT({Name} = '')" {
			t.Fatalf("formulas = %v", f)
		}
		var name, tags, att string
		var score int64
		var level *int64
		q := "SELECT name, score, tags, attachments, level FROM mapped WHERE id = ?"
		if err := d.QueryRow(ctx, q, "rec00000000000003").Scan(&name, &score, &tags, &att, &level); err != nil {
			t.Fatal(err)
		}
		if name != "Assessment 3" || score != 3 || level != nil || !jsonEq(t, tags, `["r","t3"]`) ||
			!jsonEq(t, att, `[{"filename":"a.png","id":"att1","url":"https://dl.airtable.com/a.png"}]`) {
			t.Fatalf("row = %q %d %q %q %v", name, score, tags, att, level)
		}
		// A value that does not fit its fixed type names the record and column.
		recs[5].Fields["Level"] = "high"
		fake.SetRecords(testBase, "T", recs)
		if _, err := apisync.SyncAirtable(ctx, deps, cfg, apisync.RunOptions{}); err == nil ||
			!strings.Contains(err.Error(), `key "rec00000000000005", column "level"`) {
			t.Fatalf("err = %v", err)
		}
	})
}

func jsonEq(t *testing.T, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("not JSON: %q", got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(g, w)
}

func TestValidate(t *testing.T) {
	bad := apisync.AirtableConfig{Base: "nope", Target: "drop table;", Lists: "csv", PageSize: 500,
		Fields: map[string]string{"A": "id", "B": "x"}, Types: map[string]string{"x": "date"}, Key: "y", APIURL: "ftp://x"}
	want := []string{"base", "table", "token", "target", "api_url", "lists", "page_size", "fields.A", "key", "types.x"}
	checkKeys(t, errsOf(bad.Validate()), want)
	checkKeys(t, errsOf(apisync.BadgrConfig{Tables: apisync.BadgrTables{Badges: "x", Assertions: "X"}}.Validate()),
		[]string{"api_url", "username", "password", "issuer", "tables.assertions"})
	ok := apisync.AirtableConfig{Base: testBase, Table: "Assessments", Token: "t", Target: "assessment"}
	if errs := ok.Validate(); len(errs) != 0 {
		t.Fatalf("valid config: %v", errs)
	}
	if errs := badgrCfg("https://api.badgr.io").Validate(); len(errs) != 0 {
		t.Fatalf("valid badgr config: %v", errs)
	}
}

func errsOf(fe []apisync.FieldError) []string {
	var out []string
	for _, e := range fe {
		out = append(out, e.Field)
	}
	return out
}

func checkKeys(t *testing.T, got, want []string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("error keys = %v, want %v", got, want)
	}
}

// TestBadgrLinkOffHost: a Link rel=next to another host is refused (the token
// would be sent there).
func TestBadgrLinkOffHost(t *testing.T) {
	fake := apisynctest.NewBadgr(t, badgrUser, badgrPass)
	fake.SetBadgeClasses(badgrIssuer, genBadges())
	deps, _, _ := testDeps(t, dbtest.SQLite(t))
	deps.HTTP = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil && strings.Contains(r.URL.Path, "badgeclasses") {
			resp.Header.Set("Link", `<https://evil.example/v2/issuers/x/badgeclasses?cursor=c1>; rel="next"`)
		}
		return resp, err
	})}
	_, err := apisync.SyncBadgr(context.Background(), deps, badgrCfg(fake.URL()), apisync.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "refusing to send the token") {
		t.Fatalf("err = %v", err)
	}
}
