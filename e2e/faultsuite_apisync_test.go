//go:build integration

package e2e

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/apisync/apisynctest"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/faultproxy"
)

// TestFaultSuiteAPISync: Airtable and Badgr listings through a fault proxy
// into SQLite (and PostgreSQL when GHSYNC_TEST_POSTGRES_URL is set), with
// records added, changed and deleted upstream between runs: every run ends
// cleanly; no row still present upstream is ever missing after a run (a
// failed listing deletes nothing); a run that exits 0 leaves exactly the
// upstream keys; one clean run converges exactly (keys and values).
func TestFaultSuiteAPISync(t *testing.T) {
	rep := newReport(t, "apisync (Airtable, Badgr)")
	dbs := map[string]string{"sqlite": ""}
	if pg := os.Getenv("GHSYNC_TEST_POSTGRES_URL"); pg != "" {
		dbs["postgres"] = pg
	} else {
		t.Log("GHSYNC_TEST_POSTGRES_URL unset: the apisync fault suite runs on SQLite only")
	}
	names := []string{"sqlite", "postgres"}
	for _, kind := range []string{"airtable", "badgr"} {
		for _, name := range names {
			url, ok := dbs[name]
			if !ok {
				continue
			}
			t.Run(kind+"-"+name, func(t *testing.T) {
				t.Parallel() // each case has its own fake, table and proxy
				if url == "" {
					url = "sqlite://" + filepath.Join(t.TempDir(), "target.db")
				}
				apiSuiteCase(t, rep, kind, url)
			})
		}
	}
}

// apiUpstream is the fake's records as key → the value of one field.
type apiUpstream struct {
	recs map[string]string
	rng  *rand.Rand
	n    int
}

func (u *apiUpstream) add(n int) {
	for i := 0; i < n; i++ {
		u.n++
		u.recs[fmt.Sprintf("rec%014d", u.n)] = fmt.Sprintf("name %d", u.rng.IntN(1000))
	}
}

func (u *apiUpstream) change() {
	keys := u.sorted()
	for i := 0; i < 6 && len(keys) > 0; i++ {
		k := keys[u.rng.IntN(len(keys))]
		if i%2 == 0 {
			delete(u.recs, k)
		} else if _, ok := u.recs[k]; ok {
			u.recs[k] = fmt.Sprintf("name %d", u.rng.IntN(1000))
		}
	}
	u.add(3)
}

func (u *apiUpstream) sorted() []string {
	keys := make([]string, 0, len(u.recs))
	for k := range u.recs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func apiSuiteCase(t *testing.T, rep *suiteReport, kind, dbURL string) {
	ctx := context.Background()
	seed0 := suiteSeed(t)
	runs := suiteRuns(t, 6)
	work := t.TempDir()
	suffix := make([]byte, 4)
	crand.Read(suffix)
	table := "fs_" + kind + "_" + hex.EncodeToString(suffix)
	up := &apiUpstream{recs: map[string]string{}, rng: rand.New(rand.NewPCG(seed0, 7))}
	up.add(60)

	var upstreamURL, jobYAML, keyCol, valCol string
	var publish func()
	switch kind {
	case "airtable":
		at := apisynctest.NewAirtable(t, "patSUITE")
		at.LimitPerSecond = 0 // the proxy injects the 429s
		const base = "appAAAAAAAAAAAAAA"
		publish = func() {
			var recs []apisynctest.AirtableRecord
			for _, k := range up.sorted() {
				recs = append(recs, apisynctest.AirtableRecord{ID: k, CreatedTime: "2024-01-01T00:00:00.000Z",
					Fields: map[string]any{"Name": up.recs[k]}})
			}
			at.SetRecords(base, "Things", recs)
		}
		upstreamURL = at.URL()
		jobYAML = `    kind: airtable
    base: ` + base + `
    table: Things
    token: patSUITE
    target: ` + table + `
    delete_missing: true
    page_size: 20
`
		keyCol, valCol = "id", "Name"
	case "badgr":
		bg := apisynctest.NewBadgr(t, "ops@example.com", "pw")
		publish = func() {
			var list []map[string]any
			for _, k := range up.sorted() {
				list = append(list, map[string]any{"entityType": "BadgeClass", "entityId": k, "name": up.recs[k],
					"issuer": "ISSUER1", "createdAt": "2024-01-02T03:04:05Z"})
			}
			bg.SetBadgeClasses("ISSUER1", list)
		}
		upstreamURL = bg.URL()
		jobYAML = `    kind: badgr
    username: ops@example.com
    password: pw
    issuer: ISSUER1
    tables: {badges: ` + table + `, assertions: ` + table + `_assertions}
    delete_missing: true
    page_size: 20
`
		keyCol, valCol = "entityId", "name"
	}
	t.Cleanup(func() {
		d, err := db.Open(context.Background(), dbURL, nil)
		if err == nil {
			d.Exec(context.Background(), "DROP TABLE IF EXISTS "+table)
			d.Exec(context.Background(), "DROP TABLE IF EXISTS "+table+"_assertions")
			d.Close()
		}
	})
	publish()
	cfgPath := filepath.Join(work, "ghsync.yaml")
	writeCfg := func(apiURL string) {
		text := "database: sqlite://" + filepath.Join(work, "ghsync.db") + "\njobs:\n  - name: api\n" + jobYAML +
			"    api_url: " + apiURL + "\n    database: " + dbURL + "\n"
		if err := os.WriteFile(cfgPath, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	target, err := db.Open(ctx, dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()

	run := func(faulty bool, seed uint64) (result, *faultproxy.Proxy) {
		rates := allFaults(0)
		if faulty {
			rates = allFaults(.2)
			if kind == "airtable" {
				// Airtable answers 429 with a 30-second penalty, which the
				// client waits out as documented: a 429 costs 30 s per run.
				delete(rates, faultproxy.TooMany)
			}
		}
		p := startProxy(t, upstreamURL, faultproxy.Config{Seed: seed, Rates: rates, RetryAfter: "1"})
		writeCfg(p.URL)
		r := runBin(t, rep, faulty, work, nil, "run", "api", "--config", cfgPath, "--json")
		p.Close()
		rep.addFaults(p)
		return r, p
	}
	for i := 0; i < runs; i++ {
		seed := seed0 + uint64(i)
		up.change()
		publish()
		before, err := tableRows(ctx, target, table, keyCol, valCol)
		if err != nil {
			t.Fatal(err)
		}
		r, p := run(true, seed)
		after, err := tableRows(ctx, target, table, keyCol, valCol)
		if err != nil {
			t.Fatal(err)
		}
		bad := false
		for k := range before {
			if _, still := up.recs[k]; still {
				if _, ok := after[k]; !ok {
					rep.fail(t, "%s run %d (seed %d, exit %d): row %s, present upstream and in the table, was deleted", kind, i, seed, r.code, k)
					bad = true
				}
			}
		}
		if r.code == 0 {
			for _, f := range diffRows(after, up.recs) {
				rep.fail(t, "%s run %d (seed %d) exited 0 but: %s", kind, i, seed, f)
				bad = true
			}
		}
		if bad {
			logFaults(t, seed, p)
		}
	}
	if r, _ := run(false, 0); r.code != 0 {
		rep.fail(t, "%s: clean run exited %d:\n%s", kind, r.code, tail(r.stderr))
	}
	after, err := tableRows(ctx, target, table, keyCol, valCol)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range diffRows(after, up.recs) {
		rep.fail(t, "%s: after the clean run: %s", kind, f)
	}
}

// tableRows reads key → value of one column from table (nil map when the
// table does not exist yet).
func tableRows(ctx context.Context, d *db.DB, table, keyCol, valCol string) (map[string]string, error) {
	rows, err := d.Query(ctx, "SELECT * FROM "+table)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") || strings.Contains(err.Error(), "does not exist") {
			return map[string]string{}, nil
		}
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	ki, vi := -1, -1
	for i, c := range cols {
		if strings.EqualFold(c, keyCol) {
			ki = i
		}
		if strings.EqualFold(c, valCol) {
			vi = i
		}
	}
	if ki < 0 || vi < 0 {
		return nil, fmt.Errorf("table %s has columns %v; want %s and %s", table, cols, keyCol, valCol)
	}
	out := map[string]string{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out[asText(vals[ki])] = asText(vals[vi])
	}
	return out, rows.Err()
}

func asText(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return fmt.Sprint(v)
}

// diffRows says how the table differs from the upstream records.
func diffRows(got, want map[string]string) []string {
	var out []string
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			out = append(out, "row "+k+" is missing")
		case g != v:
			out = append(out, fmt.Sprintf("row %s holds %q, upstream %q", k, g, v))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			out = append(out, "row "+k+" was deleted upstream but is still in the table")
		}
	}
	sort.Strings(out)
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("… %d differences in all", len(out)))
	}
	return out
}
