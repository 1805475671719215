package classify

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// randPattern builds a small regexp from pieces chosen to exercise the
// literal prefilter: literals, case folding, alternations, optional parts,
// classes, groups and anchors.
func randPattern(r *rand.Rand, depth int) string {
	atoms := []string{"ab", "Ab", "ba", "a", "+", "err", "k", "\\d", "[ab]", "."}
	switch n := r.IntN(10); {
	case depth > 2 || n < 4:
		return regexp.QuoteMeta(atoms[r.IntN(6)])
	case n < 5:
		return atoms[6+r.IntN(4)]
	case n < 6:
		return "(" + randPattern(r, depth+1) + "|" + randPattern(r, depth+1) + ")"
	case n < 7:
		return "(?:" + randPattern(r, depth+1) + ")?"
	case n < 8:
		return "(?i:" + randPattern(r, depth+1) + ")"
	case n < 9:
		return "(?:" + randPattern(r, depth+1) + ")+" + randPattern(r, depth+1)
	default:
		return "^" + randPattern(r, depth+1)
	}
}

func randLine(r *rand.Rand) string {
	pieces := []string{"a", "b", "A", "B", "ab", "err", "ERR", "+", " ", "1", "k", "K", "\u212a", "\x1b[31m", "\x1b[0m", "\u009b2J", "\xff", "s", "\u017f"}
	var b strings.Builder
	if r.IntN(4) == 0 {
		b.WriteString(ts)
	}
	for i := r.IntN(8); i > 0; i-- {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// TestAgreesWithOracle runs random rulesets over random logs through the
// one-pass classifier and the naive oracle.
func TestAgreesWithOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for it := 0; it < n; it++ {
		var toml strings.Builder
		for k := 1 + r.IntN(6); k > 0; k-- {
			fmt.Fprintf(&toml, "[[rule]]\nname = 'r%d'\npattern = '''%s'''\n", k%3, randPattern(r, 0))
		}
		rs, err := ParseRuleset("rand.toml", []byte(toml.String()))
		if err != nil {
			t.Fatalf("generated an invalid ruleset: %v\n%s", err, toml.String())
		}
		var log strings.Builder
		for k := r.IntN(12); k > 0; k-- {
			log.WriteString(randLine(r))
			log.WriteString("\n")
		}
		ctx := r.IntN(4)
		c := mustNew(t, rs, Options{Context: max(ctx, 0) - boolInt(ctx == 0)})
		got := c.Classify([]byte(log.String()))
		want := oracleClassify(rs, log.String(), ctx)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("iteration %d disagrees with the oracle\nrules:\n%s\nlog: %q\n got %+v\nwant %+v", it, toml.String(), log.String(), got, want)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestPrefilterNeverSkipsAMatch checks the literal prefilter alone: a pattern
// that matches a line is always among its candidates.
func TestPrefilterNeverSkipsAMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for it := 0; it < 2000; it++ {
		var res []*regexp.Regexp
		for k := 1 + r.IntN(8); k > 0; k-- {
			res = append(res, regexp.MustCompile(randPattern(r, 0)))
		}
		m, err := newMulti(res)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 10; k++ {
			line := []byte(randLine(r))
			cand := map[int32]bool{}
			for _, i := range m.candidates(line, len(res)) {
				cand[i] = true
			}
			for i, re := range res {
				if re.Match(line) && !cand[int32(i)] {
					t.Fatalf("pattern %q matches %q but was not a candidate", re, line)
				}
			}
		}
	}
}
