package classify

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// compareWithBaseline classifies log through every fast entry point
// (in memory, and streamed with a few chunk sizes so that lines straddle
// reads) and through the line-by-line baseline; all must agree.
func compareWithBaseline(t *testing.T, c *Classifier, log string, what string) {
	t.Helper()
	want := c.classifyBaseline([]byte(log), 1)
	wantR, err := c.classifyReaderBaseline(strings.NewReader(log), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(want, wantR) {
		t.Fatalf("%s: the two baselines disagree: %+v vs %+v", what, want, wantR)
	}
	if got := c.Classify([]byte(log)); !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: fast path disagrees with the baseline\nlog %q\n got %+v\nwant %+v", what, log, got, want)
	}
	for _, long := range []int{1, 2, 5} { // every line (of at least long bytes) walked as two halves
		split := *c
		split.longLine = long
		if got := split.Classify([]byte(log)); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: fast path with lines of %d+ bytes split disagrees with the baseline\nlog %q\n got %+v\nwant %+v", what, long, log, got, want)
		}
	}
	for _, chunk := range []int{1, 3, 16, readChunk} {
		got, err := c.classifyReaderFast(strings.NewReader(log), 1, chunk)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: streamed fast path (chunk %d) disagrees with the baseline\nlog %q\n got %+v\nwant %+v", what, chunk, log, got, want)
		}
	}
}

// TestFastPathMatchesBaseline: random rulesets, with random ignore_lines
// and ignored regions, over random logs (ANSI, timestamps, KELVIN SIGN,
// LONG S, invalid UTF-8, '+' lines).
func TestFastPathMatchesBaseline(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for it := 0; it < n; it++ {
		var toml strings.Builder
		switch r.IntN(4) {
		case 0:
			toml.WriteString("ignore_lines = []\n")
		case 1:
			fmt.Fprintf(&toml, "ignore_lines = ['''%s''', '''%s''']\n", randPattern(r, 1), randPattern(r, 1))
		}
		if r.IntN(2) == 0 {
			fmt.Fprintf(&toml, "[ignore_region]\nstart = '''%s'''\nend = '''%s'''\n", randPattern(r, 1), randPattern(r, 1))
		}
		for k := 1 + r.IntN(8); k > 0; k-- {
			fmt.Fprintf(&toml, "[[rule]]\nname = 'r%d'\npattern = '''%s'''\n", k%3, randPattern(r, 0))
		}
		rs, err := ParseRuleset("rand.toml", []byte(toml.String()))
		if err != nil {
			t.Fatalf("generated an invalid ruleset: %v\n%s", err, toml.String())
		}
		var log strings.Builder
		for k := r.IntN(16); k > 0; k-- {
			log.WriteString(randLine(r))
			if r.IntN(8) > 0 {
				log.WriteString("\n")
			} else {
				log.WriteString("\r\n")
			}
		}
		if r.IntN(3) == 0 {
			log.WriteString(randLine(r)) // no final newline
		}
		ctx := r.IntN(4)
		c := mustNew(t, rs, Options{Context: max(ctx, 0) - boolInt(ctx == 0)})
		compareWithBaseline(t, c, log.String(), fmt.Sprintf("iteration %d, rules:\n%s", it, toml.String()))
	}
}

// TestFastPathMatchesBaselineOnCorpus: the built-in ruleset over the
// fixture corpus, whole and in every tail.
func TestFastPathMatchesBaselineOnCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.log")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixture logs: %v", err)
	}
	c := mustNew(t, DefaultRuleset(), Options{})
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		log := string(b)
		compareWithBaseline(t, c, log, f)
		for i := 1; i < len(log); i += 1 + len(log)/50 {
			compareWithBaseline(t, c, log[i:], fmt.Sprintf("%s from byte %d", f, i))
		}
	}
}

// FuzzFastPath compares the automaton path with the line-by-line path on
// arbitrary rules files and logs.
func FuzzFastPath(f *testing.F) {
	f.Add("[[rule]]\nname = 'a'\npattern = '(?i)k(s)'\n", "xK\u017f\n+ y\nKS\n")
	f.Add("ignore_lines = ['b']\n[ignore_region]\nstart = '^s'\nend = 'e$'\n[[rule]]\nname = 'a'\npattern = 'x|^\\d'\n", "s\nx\ne\n1\x1b[0mx\nbx\n")
	f.Add(string(defaultRuleset), "2024-05-01T10:00:00.0000000Z src/a.c:1:2: error: boom\r\n")
	f.Fuzz(func(t *testing.T, rules, log string) {
		rs, err := ParseRuleset("fuzz.toml", []byte(rules))
		if err != nil {
			return
		}
		c, err := New(rs, Options{Context: 2})
		if err != nil {
			t.Fatalf("ParseRuleset accepted a ruleset New refuses: %v", err)
		}
		compareWithBaseline(t, c, log, "fuzz")
	})
}
