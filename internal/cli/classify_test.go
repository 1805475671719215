package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const classifyRules = `[[rule]]
name = "pytest failure"
pattern = '^FAILED (\S+)'

[[rule]]
name = "exit code"
pattern = 'exit code \d+'
`

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestClassifyVerb runs `ghsync classify` on a plain and a gzip log, one
// that matches nothing and one that cannot be read.
func TestClassifyVerb(t *testing.T) {
	dir := t.TempDir()
	rules := writeFile(t, filepath.Join(dir, "ruleset.toml"), []byte(classifyRules))
	log := "2024-05-01T10:00:00.0000000Z + python -m pytest\n" +
		"2024-05-01T10:00:01.0000000Z + echo hi\n" +
		"FAILED test/a.py::test_one - boom\n" +
		"\x1b[31mFAILED test/b.py::test_two\x1b[0m - boom\n" +
		"some exit code 3\n"
	plain := writeFile(t, filepath.Join(dir, "job.log"), []byte(log))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(log))
	zw.Close()
	packed := writeFile(t, filepath.Join(dir, "job.txt"), gz.Bytes()) // gzip detected from content, not name
	clean := writeFile(t, filepath.Join(dir, "clean.log"), []byte("all good\n"))

	code, out, errs := runCLI(context.Background(), "classify", "--rules", rules, "--context", "1", "--json", plain, packed, clean)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want one JSON line per file, got:\n%s", out)
	}
	for i, f := range []string{plain, packed} {
		var r struct {
			File  string `json:"file"`
			Match *struct {
				Rule     string   `json:"rule"`
				Line     string   `json:"line"`
				LineNum  int      `json:"line_num"`
				Captures []string `json:"captures"`
				Context  []string `json:"context"`
			} `json:"match"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &r); err != nil {
			t.Fatal(err)
		}
		// Priority by file order, the last matching line, ANSI removed,
		// the group captured, one '+' line of context (nearest first).
		if r.File != f || r.Match == nil || r.Match.Rule != "pytest failure" || r.Match.LineNum != 4 ||
			r.Match.Line != "FAILED test/b.py::test_two - boom" || len(r.Match.Captures) != 1 || r.Match.Captures[0] != "test/b.py::test_two" ||
			len(r.Match.Context) != 1 || r.Match.Context[0] != "+ echo hi" {
			t.Errorf("%s: %s", f, lines[i])
		}
	}
	if lines[2] != `{"file":"`+clean+`","match":null}` {
		t.Errorf("no match: %s", lines[2])
	}

	// Text output, built-in ruleset; a missing file fails the run (exit 1)
	// but the others are still classified.
	code, out, errs = runCLI(context.Background(), "classify", plain, filepath.Join(dir, "missing.log"), clean)
	if code != ExitFailed || !strings.Contains(errs, "missing.log") || !strings.Contains(errs, "1 of 3 file(s) could not be classified") {
		t.Errorf("missing file: exit %d, stderr %q", code, errs)
	}
	if !strings.Contains(out, plain+":4: ") || !strings.Contains(out, clean+": no rule matched") {
		t.Errorf("text output:\n%s", out)
	}

	// A bad rules file or flag is a usage error.
	bad := writeFile(t, filepath.Join(dir, "bad.toml"), []byte("[[rule]]\nname = \"x\"\npattern = \"(\"\n"))
	if code, _, errs := runCLI(context.Background(), "classify", "--rules", bad, plain); code != ExitUsage || !strings.Contains(errs, "bad.toml") {
		t.Errorf("bad rules: exit %d, stderr %q", code, errs)
	}
	if code, _, _ := runCLI(context.Background(), "classify", "--context", "-1", plain); code != ExitUsage {
		t.Errorf("--context -1: exit %d", code)
	}
	if code, _, _ := runCLI(context.Background(), "classify"); code != ExitUsage {
		t.Errorf("no file: exit %d", code)
	}
}

// TestClassifyStats runs `ghsync classify --stats` over the classifier's
// fixture corpus (a directory, walked) with the built-in ruleset: exact
// per-rule counts and shares, catch-all and unmatched, as JSON and table.
func TestClassifyStats(t *testing.T) {
	corpus := filepath.Join("..", "webhooks", "classify", "testdata", "corpus")
	code, out, errs := runCLI(context.Background(), "classify", "--rules", "", "--stats", "--json", corpus)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var s struct {
		Logs, Matched, Unmatched int
		CatchAll                 int     `json:"catch_all"`
		CatchAllShare            float64 `json:"catch_all_share"`
		Rules                    []struct {
			Rule     string
			CatchAll bool `json:"catch_all"`
			Logs     int
			Share    float64
		}
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if s.Logs != 10 || s.Matched != 6 || s.CatchAll != 2 || s.Unmatched != 2 || s.CatchAllShare != 0.2 {
		t.Errorf("totals: %s", out)
	}
	won := map[string]int{}
	for _, r := range s.Rules {
		if r.Logs > 0 {
			won[r.Rule] = r.Logs
		}
		if r.Rule == "GitHub Actions error" && (!r.CatchAll || r.Share != 0.2) {
			t.Errorf("catch-all row: %+v", r)
		}
	}
	want := map[string]int{"pytest failure": 1, "C/C++ compile error": 1, "Python exception": 1, "CUDA out of memory": 1,
		"Network error": 1, "Go panic": 1, "GitHub Actions error": 2}
	if fmt.Sprint(won) != fmt.Sprint(want) {
		t.Errorf("per rule: %v, want %v", won, want)
	}

	// --catch-all overrides the ruleset's; table output.
	code, out, errs = runCLI(context.Background(), "classify", "--rules", "", "--stats", "--catch-all", "Python exception", "--catch-all", "Go panic", corpus)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"Python exception (catch-all) 1 10.0%", "matched by a specific rule 6 60.0%", "fell to a catch-all rule 2 20.0%", "unmatched 2 20.0%", "logs 10"} {
		if !strings.Contains(flat, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if code, _, errs := runCLI(context.Background(), "classify", "--rules", "", "--stats", "--catch-all", "nope", corpus); code != ExitUsage || !strings.Contains(errs, `"nope"`) {
		t.Errorf("unknown --catch-all: exit %d, %s", code, errs)
	}
	// An unreadable corpus path fails the run, the rest is still counted.
	code, out, _ = runCLI(context.Background(), "classify", "--rules", "", "--stats", "--json", corpus, filepath.Join(t.TempDir(), "missing"))
	if code != ExitFailed || !strings.Contains(out, `"logs":10`) {
		t.Errorf("missing path: exit %d, %s", code, out)
	}
}
