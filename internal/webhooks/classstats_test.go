package webhooks_test

import (
	"context"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/classify"
)

// TestClassificationStats: the figures over the logs classified in the
// window, exactly; older, pending and failed rows are left out.
func TestClassificationStats(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := webhooks.Migrate(ctx, d); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		recent, old := db.FormatTime(now.Add(-time.Hour)), db.FormatTime(now.Add(-10*24*time.Hour))
		rows := []struct {
			state string
			rule  any
			done  any
		}{
			{"done", "pytest failure", recent}, {"done", "pytest failure", recent}, {"done", "GitHub Actions error", recent},
			{"done", nil, recent}, {"done", "Retired rule", recent},
			{"done", "pytest failure", old}, {"pending", nil, nil}, {"failed", nil, nil},
		}
		for i, r := range rows {
			if _, err := d.Exec(ctx, `INSERT INTO log_downloads (job_key, repo, job_id, delivery_id, state, next_attempt_at, created_at, rule, done_at)
 VALUES (?, 'o/r', ?, 'd', ?, ?, ?, ?, ?)`, "o/r/"+string(rune('a'+i)), i, r.state, recent, recent, r.rule, r.done); err != nil {
				t.Fatal(err)
			}
		}
		s, err := webhooks.ClassificationStats(ctx, d, now.Add(-7*24*time.Hour), classify.DefaultRuleset())
		if err != nil {
			t.Fatal(err)
		}
		if s.Logs != 5 || s.Matched != 3 || s.CatchAll != 1 || s.Unmatched != 1 || s.UnmatchedShare != 0.2 {
			t.Errorf("totals: %+v", s)
		}
		got := map[string]classify.RuleStat{}
		for _, r := range s.Rules {
			if r.Logs > 0 {
				got[r.Rule] = r
			}
		}
		if got["pytest failure"].Logs != 2 || got["pytest failure"].Share != 0.4 || !got["GitHub Actions error"].CatchAll ||
			got["Retired rule"].Logs != 1 || s.Rules[len(s.Rules)-1].Rule != "Retired rule" || len(got) != 3 {
			t.Errorf("rules: %+v", got)
		}
	})
}
