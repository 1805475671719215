package ui

import (
	"encoding/json"
	"testing"

	"github.com/ghsync/ghsync/internal/inbox"
)

// TestEventBusySetOutcome: an event run's set that another run had claimed
// is shown as such, not as a failure.
func TestEventBusySetOutcome(t *testing.T) {
	raw, err := json.Marshal(&inbox.EventResult{Job: "uploads", Results: []*inbox.Result{{Job: "uploads", Prefix: "E1/2026-05-07/t/",
		Busy: true, Keys: []string{"E1/2026-05-07/t/a.csv"}, Actions: []inbox.ActionResult{}}}})
	if err != nil {
		t.Fatal(err)
	}
	v := parseSummary(raw)
	if len(v.Sets) != 1 || v.Sets[0].Outcome != "being processed by another run: nothing done by this run" {
		t.Errorf("event's busy set shown as %+v", v.Sets)
	}
}
