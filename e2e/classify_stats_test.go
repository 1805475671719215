package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestClassifyStatsThroughBinary: `ghsync classify --stats` over the
// classifier's fixture corpus (a directory) with the built-in ruleset:
// exact per-rule counts, catch-all and unmatched, as one JSON object and as
// a table.
func TestClassifyStatsThroughBinary(t *testing.T) {
	corpus, err := filepath.Abs(filepath.Join("..", "internal", "webhooks", "classify", "testdata", "corpus"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := exe(t, dir, nil, "classify", "--stats", "--json", corpus)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var s struct {
		Logs      int `json:"logs"`
		Matched   int `json:"matched"`
		CatchAll  int `json:"catch_all"`
		Unmatched int `json:"unmatched"`
		Rules     []struct {
			Rule     string  `json:"rule"`
			CatchAll bool    `json:"catch_all"`
			Logs     int     `json:"logs"`
			Share    float64 `json:"share"`
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("stdout is not one JSON object (%v): %q", err, r.stdout)
	}
	if s.Logs != 10 || s.Matched != 6 || s.CatchAll != 2 || s.Unmatched != 2 {
		t.Errorf("totals: %s", r.stdout)
	}
	won := map[string]int{}
	for _, x := range s.Rules {
		if x.Logs > 0 {
			won[x.Rule] = x.Logs
		}
	}
	want := map[string]int{"pytest failure": 1, "C/C++ compile error": 1, "Python exception": 1, "CUDA out of memory": 1,
		"Network error": 1, "Go panic": 1, "GitHub Actions error": 2}
	if len(won) != len(want) {
		t.Errorf("rules that won: %v, want %v", won, want)
	}
	for k, v := range want {
		if won[k] != v {
			t.Errorf("rule %q won %d logs, want %d", k, won[k], v)
		}
	}
	r = exe(t, dir, nil, "classify", "--stats", corpus)
	flat := strings.Join(strings.Fields(r.stdout), " ")
	if r.code != 0 || !strings.Contains(flat, "GitHub Actions error (catch-all) 2 20.0%") || !strings.Contains(flat, "unmatched 2 20.0%") {
		t.Errorf("table: exit %d\n%s", r.code, r.stdout)
	}
}
