package classify

import (
	"reflect"
	"testing"
)

// FuzzNormalize compares the byte scanner with the regexp-based oracle.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", ts + "x", "\x1b[31mred\x1b[0m", "\u009b1;2m", "\x1b[", "\x1b[12", "\xc2\x9b", "\u0085", "\x1bA\x1b\\", ts[:28], "\xff\x1b[m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		got := string(Normalize(nil, []byte(line)))
		if want := oracleNormalize(line); got != want {
			t.Fatalf("Normalize(%q) = %q, oracle %q", line, got, want)
		}
	})
}

// FuzzParseRuleset feeds arbitrary rules files to the parser; whatever it
// accepts must compile and classify like the oracle.
func FuzzParseRuleset(f *testing.F) {
	f.Add("[[rule]]\nname = 'a'\npattern = 'b(c)'\n", "abc\n+ x\nbc\n")
	f.Add("ignore_lines = []\n[ignore_region]\nstart = 's'\nend = 'e'\n[[rule]]\nname = 'a'\npattern = '(?i)x'\n", "s\nX\ne\nx\n")
	f.Add(string(defaultRuleset), "src/a.c:1:2: error: boom\n")
	f.Fuzz(func(t *testing.T, rules, log string) {
		rs, err := ParseRuleset("fuzz.toml", []byte(rules))
		if err != nil {
			return
		}
		c, err := New(rs, Options{Context: 3})
		if err != nil {
			t.Fatalf("ParseRuleset accepted a ruleset New refuses: %v", err)
		}
		got := c.Classify([]byte(log))
		if want := oracleClassify(rs, log, 3); !reflect.DeepEqual(got, want) {
			t.Fatalf("disagrees with the oracle\nrules %q\nlog %q\n got %+v\nwant %+v", rules, log, got, want)
		}
	})
}
