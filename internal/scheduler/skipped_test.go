package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db/dbtest"
)

// A skipped tick says in words which run is still going, since when and
// where — not the lease holder's "q3/a2/vm-28912".
func TestSkipReasonInWords(t *testing.T) {
	d := openDB(t, dbtest.SQLiteURL(t))
	ctx := context.Background()
	if err := Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	h := &history{d: d}
	started := time.Date(2026, 5, 7, 14, 3, 10, 0, time.UTC)
	if _, err := h.start(ctx, &Run{Job: "site", QueueJobID: 3, Attempt: 2, ScheduledAt: started, StartedAt: started, Replica: "vm-28912"}); err != nil {
		t.Fatal(err)
	}
	now := started.Add(2*time.Minute + 5*time.Second)
	for _, tc := range []struct{ holder, self, want string }{
		{"q3/a2/vm-28912", "vm-28912", "the previous run (started 14:03:10 UTC, 2m ago, on this replica vm-28912) is still going"},
		{"q3/a2/vm-28912", "vm-1", "the previous run (started 14:03:10 UTC, 2m ago, on replica vm-28912) is still going"},
		{"q4/a1/vm-1", "vm-28912", "the previous run (on replica vm-1, just started) is still going"},
	} {
		if got := h.skipReason(ctx, tc.holder, tc.self, now); got != tc.want {
			t.Errorf("holder %s seen from %s:\n got %s\nwant %s", tc.holder, tc.self, got, tc.want)
		}
	}
	if got := h.skipReason(ctx, "q3/a2/vm-28912", "x", started.Add(26*time.Hour)); got !=
		"the previous run (started 2026-05-07 14:03:10 UTC, 26h ago, on replica vm-28912) is still going" {
		t.Errorf("a day later: %s", got)
	}
}
