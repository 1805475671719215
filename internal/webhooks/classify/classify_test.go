package classify

import (
	"bytes"
	"compress/gzip"
	"os"
	"reflect"
	"strings"
	"testing"
)

const ts = "2024-07-08T16:59:08.1747875Z "

func mustRules(t testing.TB, toml string) *Ruleset {
	t.Helper()
	rs, err := ParseRuleset("test.toml", []byte(toml))
	if err != nil {
		t.Fatalf("parse rules: %v", err)
	}
	return rs
}

func mustNew(t testing.TB, rs *Ruleset, o Options) *Classifier {
	t.Helper()
	c, err := New(rs, o)
	if err != nil {
		t.Fatalf("new classifier: %v", err)
	}
	return c
}

// TestSemantics covers each rule of the spec's semantics with a table; every
// case is also checked against the naive oracle and through ClassifyReader.
func TestSemantics(t *testing.T) {
	two := `
[[rule]]
name = "high"
pattern = 'HIGH (\d+)'
[[rule]]
name = "low"
pattern = 'low'
`
	cases := []struct {
		name    string
		rules   string
		log     string
		context int
		want    *Match // nil: no match
	}{
		{"priority: file order wins over line order", two,
			"HIGH 1\nlow\nlow\n", 0,
			&Match{Rule: "high", Line: "HIGH 1", LineNum: 1, Captures: []string{"1"}, Context: []string{}}},
		{"lower rule when the higher never matches", two,
			"x\nlow a\nlow b\ny\n", 0,
			&Match{Rule: "low", Line: "low b", LineNum: 3, Captures: []string{"low"}, Context: []string{}}},
		{"last matching line of the winning rule", two,
			"HIGH 1\nHIGH 2\nlow\nHIGH 3\nlow\n", 0,
			&Match{Rule: "high", Line: "HIGH 3", LineNum: 4, Captures: []string{"3"}, Context: []string{}}},
		{"duplicate names keep their own priority", `
[[rule]]
name = "same"
pattern = 'alpha'
[[rule]]
name = "other"
pattern = 'beta'
[[rule]]
name = "same"
pattern = 'gamma'
`, "gamma\nbeta\n", 0,
			&Match{Rule: "other", Line: "beta", LineNum: 2, Captures: []string{"beta"}, Context: []string{}}},
		{"timestamp prefix removed, line number kept", two,
			ts + "x\n" + ts + "low here\n", 0,
			&Match{Rule: "low", Line: "low here", LineNum: 2, Captures: []string{"low"}, Context: []string{}}},
		{"timestamp with 6 fractional digits is not removed", `
[[rule]]
name = "anchored"
pattern = '^low'
`, "2024-07-08T16:59:08.174787Z low\n", 0, nil},
		{"anchored rule sees the line without the timestamp", `
[[rule]]
name = "anchored"
pattern = '^low$'
`, ts + "low\n", 0,
			&Match{Rule: "anchored", Line: "low", LineNum: 1, Captures: []string{"low"}, Context: []string{}}},
		{"ANSI escapes removed anywhere", two,
			ts + "\x1b[31mHI\x1b[0mGH \x1b[1;33m42\x1b[0m\n", 0,
			&Match{Rule: "high", Line: "HIGH 42", LineNum: 1, Captures: []string{"42"}, Context: []string{}}},
		{"8-bit C1 CSI and controls removed", two,
			"HI\u009b1mGH\u0085 7\n", 0,
			&Match{Rule: "high", Line: "HIGH 7", LineNum: 1, Captures: []string{"7"}, Context: []string{}}},
		{"CRLF line endings", two,
			"a\r\nlow\r\n", 0,
			&Match{Rule: "low", Line: "low", LineNum: 2, Captures: []string{"low"}, Context: []string{}}},
		{"last line without newline", two, "a\nlow", 0,
			&Match{Rule: "low", Line: "low", LineNum: 2, Captures: []string{"low"}, Context: []string{}}},
		{"default dropped boilerplate never matches", `
[[rule]]
name = "gha"
pattern = '^##\[error\]'
`, "##[error]real failure\n##[error]Process completed with exit code 1.\n[OSDC] Step script exited with code 2\n", 0,
			&Match{Rule: "gha", Line: "##[error]real failure", LineNum: 1, Captures: []string{"##[error]"}, Context: []string{}}},
		{"dropped lines overridable: ignore_lines = [] keeps them", `
ignore_lines = []
[[rule]]
name = "gha"
pattern = '^##\[error\]'
`, "##[error]real failure\n##[error]Process completed with exit code 1.\n", 0,
			&Match{Rule: "gha", Line: "##[error]Process completed with exit code 1.", LineNum: 2, Captures: []string{"##[error]"}, Context: []string{}}},
		{"dropped lines overridable: own list", `
ignore_lines = ['^noise']
[[rule]]
name = "any"
pattern = 'e'
`, "keep me\nnoise here\n", 0,
			&Match{Rule: "any", Line: "keep me", LineNum: 1, Captures: []string{"e"}, Context: []string{}}},
		{"default ignored region (sccache) incl. its markers", `
[[rule]]
name = "err"
pattern = 'error: (.*)'
`, "error: real\n=================== sccache compilation log ===================\nerror: noise\n=========== If your build fails, please take a look at the log above for possible reasons ===========\nafter\n", 0,
			&Match{Rule: "err", Line: "error: real", LineNum: 1, Captures: []string{"real"}, Context: []string{}}},
		{"ignored region overridable", `
[ignore_region]
start = 'BEGIN'
end = 'END'
[[rule]]
name = "err"
pattern = 'error: (.*)'
`, "error: real\nBEGIN\nerror: noise\nEND\n", 0,
			&Match{Rule: "err", Line: "error: real", LineNum: 1, Captures: []string{"real"}, Context: []string{}}},
		{"ignored region disabled", `
[ignore_region]
start = ''
[[rule]]
name = "err"
pattern = 'error: (.*)'
`, "error: real\n=================== sccache compilation log ===================\nerror: noise\n", 0,
			&Match{Rule: "err", Line: "error: noise", LineNum: 3, Captures: []string{"noise"}, Context: []string{}}},
		{"unterminated ignored region ignores to the end", `
[[rule]]
name = "err"
pattern = 'error'
`, "=================== sccache compilation log ===================\nerror\n", 0, nil},
		{"captures: only participating groups, in order", `
[[rule]]
name = "g"
pattern = '(a)|(b)(c)?(d)'
`, "bd\n", 0,
			&Match{Rule: "g", Line: "bd", LineNum: 1, Captures: []string{"b", "d"}, Context: []string{}}},
		{"captures: no groups → whole match", `
[[rule]]
name = "g"
pattern = 'fail\w+'
`, "it failed badly\n", 0,
			&Match{Rule: "g", Line: "it failed badly", LineNum: 1, Captures: []string{"failed"}, Context: []string{}}},
		{"captures: non-capturing group counts as no group", `
[[rule]]
name = "g"
pattern = '(?:x|y)z'
`, "ayz\n", 0,
			&Match{Rule: "g", Line: "ayz", LineNum: 1, Captures: []string{"yz"}, Context: []string{}}},
		{"context: '+' lines backwards from the match inclusive, nearest first, capped", `
[[rule]]
name = "plus"
pattern = '^\+ fail'
`, "+ a\nnot\n+ b\n+ c\n+ fail now\n+ later\n", 2,
			&Match{Rule: "plus", Line: "+ fail now", LineNum: 5, Captures: []string{"+ fail"}, Context: []string{"+ fail now", "+ c"}}},
		{"context: skips dropped and ignored lines, uses normalised text", `
[[rule]]
name = "err"
pattern = 'boom'
`, ts + "+ \x1b[1mmake\x1b[0m\n=================== sccache compilation log ===================\n+ hidden\n=========== If your build fails, please take a look at the log above for possible reasons ===========\nboom\n", 12,
			&Match{Rule: "err", Line: "boom", LineNum: 5, Captures: []string{"boom"}, Context: []string{"+ make"}}},
		{"case-insensitive rule", `
[[rule]]
name = "ci"
pattern = '(?i)segmentation FAULT'
`, "Segmentation Fault (core dumped)\n", 0,
			&Match{Rule: "ci", Line: "Segmentation Fault (core dumped)", LineNum: 1, Captures: []string{"Segmentation Fault"}, Context: []string{}}},
		{"no match", two, "nothing\nhere\n", 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs := mustRules(t, tc.rules)
			ctx := tc.context
			if ctx == 0 {
				ctx = -1
			}
			c := mustNew(t, rs, Options{Context: ctx})
			got := c.Classify([]byte(tc.log))
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Classify:\n got %+v\nwant %+v", got, tc.want)
			}
			gotR, err := c.ClassifyReader(strings.NewReader(tc.log))
			if err != nil || !reflect.DeepEqual(gotR, tc.want) {
				t.Fatalf("ClassifyReader: %v\n got %+v\nwant %+v", err, gotR, tc.want)
			}
			if o := oracleClassify(rs, tc.log, max(ctx, 0)); !reflect.DeepEqual(o, tc.want) {
				t.Fatalf("oracle disagrees with the table (table wrong?):\n oracle %+v\n  table %+v", o, tc.want)
			}
		})
	}
}

func TestDefaultContextIs12(t *testing.T) {
	rs := mustRules(t, "[[rule]]\nname = 'x'\npattern = 'boom'\n")
	var b strings.Builder
	for i := 0; i < 20; i++ {
		b.WriteString("+ step\n")
	}
	b.WriteString("boom\n")
	m := mustNew(t, rs, Options{}).Classify([]byte(b.String()))
	if m == nil || len(m.Context) != 12 {
		t.Fatalf("context = %v, want 12 lines", m)
	}
}

func TestLongLinesThroughReader(t *testing.T) {
	rs := mustRules(t, "[[rule]]\nname = 'x'\npattern = 'needle(\\d)'\n")
	long := strings.Repeat("a", 200<<10) + "needle7" + strings.Repeat("b", 100<<10)
	log := "x\n" + long + "\ny\n"
	m, err := mustNew(t, rs, Options{}).ClassifyReader(strings.NewReader(log))
	if err != nil || m == nil || m.LineNum != 2 || m.Captures[0] != "7" || len(m.Line) != len(long) {
		t.Fatalf("got %+v, %v", m, err)
	}
}

func TestClassifyReaderFromNumbersLines(t *testing.T) {
	rs := mustRules(t, "[[rule]]\nname = 'x'\npattern = 'boom'\n")
	m, err := mustNew(t, rs, Options{}).ClassifyReaderFrom(strings.NewReader("a\nboom\n"), 1001)
	if err != nil || m == nil || m.LineNum != 1002 {
		t.Fatalf("got %+v, %v", m, err)
	}
}

func TestParseRulesetErrors(t *testing.T) {
	cases := map[string]string{
		"no rules":        "",
		"bad regexp":      "[[rule]]\nname = 'x'\npattern = 'a('\n",
		"empty name":      "[[rule]]\npattern = 'a'\n",
		"empty pattern":   "[[rule]]\nname = 'x'\n",
		"unknown key":     "[[rule]]\nname = 'x'\npattern = 'a'\npriority = 3\n",
		"bad ignore line": "ignore_lines = ['(']\n[[rule]]\nname = 'x'\npattern = 'a'\n",
		"region w/o end":  "[ignore_region]\nstart = 'a'\n[[rule]]\nname = 'x'\npattern = 'a'\n",
		"not toml":        "[[rule]\n",
	}
	for name, src := range cases {
		if _, err := ParseRuleset("r.toml", []byte(src)); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), "r.toml") {
			t.Errorf("%s: error does not name the file: %v", name, err)
		}
	}
}

func TestDefaultRulesetClassifiesCommonFailures(t *testing.T) {
	c := mustNew(t, DefaultRuleset(), Options{})
	cases := map[string]string{
		ts + "src/a.cpp:12:5: error: 'x' was not declared in this scope\n":                                "C/C++ compile error",
		"--- FAIL: TestThing (0.01s)\n":                                                                   "Go test failure",
		"FAILED test/test_nn.py::TestNN::test_conv - AssertionError\n":                                    "pytest failure",
		"##[error]The job running on runner r1 has exceeded the maximum execution time of 240 minutes.\n": "Job timed out",
		"torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n":                        "CUDA out of memory",
		"curl: (6) Could not resolve host: example.com\n":                                                 "Network error",
		"##[error]Process completed with exit code 1.\n##[error]Something else broke\n":                   "GitHub Actions error",
	}
	for log, want := range cases {
		m := c.Classify([]byte(log))
		if m == nil || m.Rule != want {
			t.Errorf("%q: got %+v, want rule %q", log, m, want)
		}
	}
}

func TestGzipLogThroughReader(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("ok\nFAILED a.py::t - x\n"))
	zw.Close()
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mustNew(t, DefaultRuleset(), Options{}).ClassifyReader(zr)
	if err != nil || m == nil || m.Rule != "pytest failure" {
		t.Fatalf("got %+v %v", m, err)
	}
}

func TestClassifyFileAndWriteResult(t *testing.T) {
	dir := t.TempDir()
	plain := dir + "/a.log"
	gz := dir + "/b.txt" // gzip whatever the name
	if err := os.WriteFile(plain, []byte("+ make\nsrc/a.c:1:2: error: boom\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("all good\n"))
	zw.Close()
	if err := os.WriteFile(gz, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	c := mustNew(t, DefaultRuleset(), Options{})
	var out bytes.Buffer
	for _, f := range []string{plain, gz} {
		m, err := c.ClassifyFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteResult(&out, f, m, true); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want0 := `{"file":"` + plain + `","match":{"rule":"C/C++ compile error","line":"src/a.c:1:2: error: boom","line_num":2,"captures":["src/a.c","1","boom"],"context":["+ make"]}}`
	if len(lines) != 2 || lines[0] != want0 || lines[1] != `{"file":"`+gz+`","match":null}` {
		t.Fatalf("json output:\n%s", out.String())
	}
	if _, err := c.ClassifyFile(dir + "/missing"); err == nil {
		t.Error("missing file: no error")
	}
}

func TestRustOnlySyntaxRefused(t *testing.T) {
	bad := []string{`[a-z&&[^aeiou]]`, `[a[bc]]`, `[\w--\d]`, `[a~~b]`, `(?x) a b`}
	for _, p := range bad {
		if _, err := ParseRuleset("r.toml", []byte("[[rule]]\nname = 'x'\npattern = '''"+p+"'''\n")); err == nil {
			t.Errorf("%s: accepted", p)
		}
	}
	good := []string{`[[:alpha:]]+`, `[]a]`, `[^]a]`, `a--b`, `[\[\]]`, `x&&y`, `[a-]`, `[-a]`, `^##\[error\](.*)`, `\[  FAILED  \]`}
	for _, p := range good {
		if _, err := ParseRuleset("r.toml", []byte("[[rule]]\nname = 'x'\npattern = '''"+p+"'''\n")); err != nil {
			t.Errorf("%s: refused: %v", p, err)
		}
	}
}

func TestContextLines(t *testing.T) {
	rs := mustRules(t, "[[rule]]\nname = 'x'\npattern = 'boom'\n")
	log := []byte("+ a\n+ b\nboom\n")
	for n, want := range map[int]int{0: 0, 1: 1, 5: 2} {
		m := mustNew(t, rs, ContextLines(n)).Classify(log)
		if m == nil || len(m.Context) != want {
			t.Errorf("ContextLines(%d): %+v", n, m)
		}
	}
}
