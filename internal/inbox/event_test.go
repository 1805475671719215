package inbox

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/store"
)

// TestEventTwiceThenNewFile: the same event delivered twice makes one
// issue, one callback; a file added to the set is processed again (comment
// "Updated…").
func TestEventTwiceThenNewFile(t *testing.T) {
	e := newEnv(t)
	e.upload("dc_districts.csv", "districts.csv")
	e.upload("dc_stations.csv", "stations.csv")
	bucket := strings.TrimPrefix(e.cfg.Watch, "mem://")
	ev := []EventObject{{Bucket: bucket, Key: setPrefix + "districts.csv"}, {Bucket: bucket, Key: setPrefix + "stations.csv"},
		{Bucket: "other-bucket", Key: setPrefix + "x.csv"}}
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		er, err := ProcessEvent(ctx, e.deps, e.cfg, ev, RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(er.Results) != 1 || len(er.Ignored) != 1 {
			t.Fatalf("delivery %d: %d results, %d ignored; want 1 set (two records) and 1 ignored", i+1, len(er.Results), len(er.Ignored))
		}
		if er.Results[0].Skipped != (i == 1) {
			t.Errorf("delivery %d: skipped = %v", i+1, er.Results[0].Skipped)
		}
	}
	issues := e.gh.Issues("DemocracyClub", "UK-Polling-Stations")
	if len(issues) != 1 || len(e.cb.Requests()) != 1 || len(issues[0].Comments) != 0 {
		t.Fatalf("after two deliveries: %d issues, %d callbacks; want 1 and 1", len(issues), len(e.cb.Requests()))
	}
	e.upload("idox_eros.csv", "extra.csv")
	er, err := ProcessEvent(ctx, e.deps, e.cfg, []EventObject{{Bucket: bucket, Key: setPrefix + "extra.csv"}}, RunOptions{})
	if err != nil || len(er.Results) != 1 || er.Results[0].Skipped {
		t.Fatalf("new file: %+v, %v; want the set processed again", er, err)
	}
	issues = e.gh.Issues("DemocracyClub", "UK-Polling-Stations")
	if len(issues) != 1 || len(issues[0].Comments) != 1 || !strings.HasPrefix(issues[0].Comments[0], "Updated\n") {
		t.Errorf("after the new file: %+v; want one issue with an Updated comment", issues)
	}
	if n := len(e.cb.Requests()); n != 2 {
		t.Errorf("callbacks = %d; want 2", n)
	}
}

func TestWatchedKey(t *testing.T) {
	tests := []struct {
		watch, bucket, key, want string
		ok                       bool
	}{
		{"s3://temp", "temp", "E1/2026/t/a.csv", "E1/2026/t/a.csv", true},
		{"s3://temp/uploads/", "temp", "uploads/E1/2026/t/a.csv", "E1/2026/t/a.csv", true},
		{"s3://temp/uploads", "temp", "other/E1/a.csv", "", false},
		{"s3://temp", "final", "E1/a.csv", "", false},
		{"s3://temp?prefix=in&region=eu-west-2", "temp", "in/E1/2026/t/a.csv", "E1/2026/t/a.csv", true},
	}
	for _, tt := range tests {
		c := &Config{Watch: tt.watch}
		got, ok := c.WatchedKey(tt.bucket, tt.key)
		if got != tt.want || ok != tt.ok {
			t.Errorf("WatchedKey(%s, %s, %s) = %q, %v; want %q, %v", tt.watch, tt.bucket, tt.key, got, ok, tt.want, tt.ok)
		}
	}
}

// TestPollFolderWithDatabaseLedger: a folder (file://) watch polled twice,
// the second time by a "restarted" process on the same database, processes
// the set once; a changed file makes it processed again. SQLite always,
// PostgreSQL when GHSYNC_TEST_POSTGRES_URL is set.
func TestPollFolderWithDatabaseLedger(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t)
		dir := t.TempDir()
		e.cfg.Watch = "file://" + dir
		ctx := context.Background()
		if err := Migrate(ctx, d); err != nil {
			t.Fatal(err)
		}
		e.deps.Ledger = DBLedger{DB: d}
		b, _ := os.ReadFile(filepath.Join("testdata", "files", "idox_eros.csv"))
		p := filepath.Join(dir, filepath.FromSlash(setPrefix), "idox.csv")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "stray.txt"), []byte("x"), 0o644)
		pr, err := Poll(ctx, e.deps, e.cfg, RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if pr.Sets != 1 || len(pr.Processed) != 1 || pr.Ignored != 1 || !pr.Processed[0].Passed {
			t.Fatalf("first poll = %+v; want 1 set processed (passed), 1 ignored", pr)
		}
		restarted := e.deps // same database, new process state
		restarted.Ledger = DBLedger{DB: d}
		pr, err = Poll(ctx, restarted, e.cfg, RunOptions{})
		if err != nil || len(pr.Processed) != 0 || pr.Unchanged != 1 {
			t.Fatalf("poll after restart = %+v, %v; want nothing processed, 1 unchanged", pr, err)
		}
		time.Sleep(10 * time.Millisecond) // a new modification time, hence ETag, on coarse clocks
		if err := os.WriteFile(p, append(b, "41,AA,41 High Street,AB1 2CD,S1\r\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		pr, err = Poll(ctx, restarted, e.cfg, RunOptions{})
		if err != nil || len(pr.Processed) != 1 {
			t.Fatalf("poll after a change = %+v, %v; want the set processed again", pr, err)
		}
		if got := e.gh.Issues("DemocracyClub", "UK-Polling-Stations"); len(got) != 1 || len(got[0].Comments) != 1 {
			t.Errorf("issues = %+v; want one issue, commented once", got)
		}
		var final []string
		e.final.List(ctx, func(o store.Object) error { final = append(final, o.Key); return nil })
		if !slices.Contains(final, setPrefix+"idox.csv") {
			t.Errorf("final = %q", final)
		}
	})
}

func TestReportJSONNotReplacedBySmallerSet(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	big := []byte(`{"gss":"E07000223","file_set":[{"key":"a"},{"key":"b"}]}`)
	if _, err := e.final.Put(ctx, setPrefix+"report.json", bytes.NewReader(big), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	e.upload("idox_eros.csv", "a.csv")
	res := e.process(setPrefix, RunOptions{})
	if a := findAction(t, res, ActionReport); a.Status != StatusSkipped {
		t.Errorf("report.json action = %+v; want skipped", a)
	}
	got, _, _ := e.final.Read(ctx, setPrefix+"report.json")
	if !bytes.Equal(got, big) {
		t.Errorf("report.json replaced: %s", got)
	}
}
