package ui_test

import (
	"testing"

	"github.com/ghsync/ghsync/internal/inbox"
)

// TestInboxPollShowsBusySets: a poll's sets that another run had claimed
// are counted in its summary.
func TestInboxPollShowsBusySets(t *testing.T) {
	body := inboxRunPage(t, &inbox.PollResult{Job: "uploads", Sets: 2, Unchanged: 1, Busy: 1, BusySets: []string{"E1/2026-05-07/t/"},
		Processed: []*inbox.Result{}})
	mustContain(t, "poll with a busy set", body, "<dd class=\"summary\">1 unchanged, 1 being processed by another run</dd>")
}
