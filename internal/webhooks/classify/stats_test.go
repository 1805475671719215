package classify

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// corpusWants is what the built-in ruleset makes of each fixture log.
var corpusWants = map[string]string{
	"01-pytest.log":    "pytest failure",
	"02-compile.log":   "C/C++ compile error",
	"03-python.log":    "Python exception",
	"04-oom.log":       "CUDA out of memory",
	"05-gha-error.log": "GitHub Actions error",
	"06-gha-error.log": "GitHub Actions error",
	"07-unmatched.log": "", // only the ignored exit-code line
	"08-region.log":    "", // the compile error is inside sccache's ignored region
	"09-network.log":   "Network error",
	"10-panic.log":     "Go panic",
}

// TestStatsOverCorpus: per-rule counts and shares, catch-all and unmatched
// over the fixture corpus, exactly.
func TestStatsOverCorpus(t *testing.T) {
	rs := DefaultRuleset()
	c := mustNew(t, rs, Options{})
	sc := NewStatsCounter(rs, nil)
	files, _ := filepath.Glob("testdata/corpus/*.log")
	if len(files) != len(corpusWants) {
		t.Fatalf("corpus has %d logs, the test knows %d", len(files), len(corpusWants))
	}
	for _, f := range files {
		m, err := c.ClassifyFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if m != nil {
			got = m.Rule
		}
		if want := corpusWants[filepath.Base(f)]; got != want {
			t.Errorf("%s: classified %q, want %q", f, got, want)
		}
		sc.AddMatch(m)
	}
	s := sc.Stats()
	if s.Logs != 10 || s.Matched != 6 || s.CatchAll != 2 || s.Unmatched != 2 ||
		s.MatchedShare != 0.6 || s.CatchAllShare != 0.2 || s.UnmatchedShare != 0.2 {
		t.Errorf("totals: %+v", s)
	}
	if len(s.Rules) != len(rs.Rules) {
		t.Errorf("%d rule rows, want one per rule name (%d)", len(s.Rules), len(rs.Rules))
	}
	got := map[string]RuleStat{}
	for _, r := range s.Rules {
		if r.Logs > 0 {
			got[r.Rule] = r
		}
	}
	want := map[string]RuleStat{
		"pytest failure":       {Rule: "pytest failure", Logs: 1, Share: 0.1},
		"C/C++ compile error":  {Rule: "C/C++ compile error", Logs: 1, Share: 0.1},
		"Python exception":     {Rule: "Python exception", Logs: 1, Share: 0.1},
		"CUDA out of memory":   {Rule: "CUDA out of memory", Logs: 1, Share: 0.1},
		"Network error":        {Rule: "Network error", Logs: 1, Share: 0.1},
		"Go panic":             {Rule: "Go panic", Logs: 1, Share: 0.1},
		"GitHub Actions error": {Rule: "GitHub Actions error", CatchAll: true, Logs: 2, Share: 0.2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rules:\n got %+v\nwant %+v", got, want)
	}
	if s.Rules[0].Rule != rs.Rules[0].Name {
		t.Errorf("rules not in priority order: first %q", s.Rules[0].Rule)
	}

	var table, js bytes.Buffer
	if err := WriteStats(&table, s, false); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"GitHub Actions error (catch-all)  2  20.0%", "matched by a specific rule  6  60.0%", "unmatched  2  20.0%"} {
		if !strings.Contains(strings.Join(strings.Fields(table.String()), " "), strings.Join(strings.Fields(line), " ")) {
			t.Errorf("table lacks %q:\n%s", line, table.String())
		}
	}
	if err := WriteStats(&js, s, true); err != nil {
		t.Fatal(err)
	}
	var back Stats
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || !reflect.DeepEqual(&back, s) {
		t.Errorf("JSON round trip: %v\n%s", err, js.String())
	}
}

// TestStatsUnknownRuleAndOverride: a rule name the ruleset lacks is listed
// after its rules; catch-all names given override the ruleset's.
func TestStatsUnknownRuleAndOverride(t *testing.T) {
	rs := mustRules(t, "catch_all = ['b']\n[[rule]]\nname = 'a'\npattern = 'x'\n[[rule]]\nname = 'b'\npattern = 'y'\n[[rule]]\nname = 'a'\npattern = 'z'\n")
	sc := NewStatsCounter(rs, []string{"a"})
	sc.Add("a", 3)
	sc.Add("b", 1)
	sc.Add("old", 1)
	sc.Add("", 5)
	s := sc.Stats()
	want := []RuleStat{{"a", true, 3, 0.3}, {"b", false, 1, 0.1}, {"old", false, 1, 0.1}}
	if !reflect.DeepEqual(s.Rules, want) || s.CatchAll != 3 || s.Matched != 2 || s.Unmatched != 5 {
		t.Errorf("got %+v", s)
	}
	if _, err := ParseRuleset("x.toml", []byte("catch_all = ['nope']\n[[rule]]\nname = 'a'\npattern = 'x'\n")); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown catch_all name: %v", err)
	}
}
