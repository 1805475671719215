package ui_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/scheduler"
	"github.com/ghsync/ghsync/internal/ui"
)

// BenchmarkPages renders the jobs page and a run page over 20 jobs × 100
// runs (the scheduler's default history bound) on SQLite.
func BenchmarkPages(b *testing.B) {
	d := dbtest.SQLite(b)
	sum, _ := json.Marshal(map[string]any{"new": 3, "modified": 1, "deleted": 0,
		"paths": map[string]any{"new": []string{"a", "b", "c"}, "modified": []string{"d"}}})
	var last int64
	for j := 0; j < 20; j++ {
		for r := 0; r < 100; r++ {
			start := now.Add(-time.Duration(100-r) * time.Minute)
			last = seedRun(b, d, scheduler.Run{Job: fmt.Sprintf("job-%02d", j), StartedAt: start, FinishedAt: start.Add(time.Second),
				Outcome: scheduler.OutcomeOK, Summary: sum})
		}
	}
	h, err := ui.New(ui.Options{DB: d, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []string{"/ui/", "/ui/jobs/job-19", fmt.Sprintf("/ui/jobs/job-19/runs/%d", last-99)} {
		b.Run(p, func(b *testing.B) {
			for b.Loop() {
				if code, _ := get(b, h, p); code != http.StatusOK {
					b.Fatalf("GET %s: %d", p, code)
				}
			}
		})
	}
}
