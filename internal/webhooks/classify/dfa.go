package classify

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"unicode/utf8"
)

// litDFA is an Aho-Corasick automaton compiled to a full byte DFA: one table
// load per input byte, no failure-link walks, no callbacks. It finds, in one
// pass over a line, which of a set of patterns (identified by small
// integers) have one of their required literals in the line.
//
// It matches ASCII letters without regard to case (case-sensitive literals
// included): it is a prefilter, so a superset of candidates is harmless,
// and one case-blind automaton serves both the exact and the (?i) literals.
// A (?i) literal's non-ASCII parts are dropped (its longest ASCII run is
// kept: a substring of a required literal is required too). The only
// non-ASCII characters that (?i) equates with ASCII letters, KELVIN SIGN
// (U+212A, 'k') and LATIN SMALL LETTER LONG S (U+017F, 's'), make a line
// unsafe for the automaton when the ruleset has (?i) literals; see
// foldSensitive.
type litDFA struct {
	cls [256]uint8 // byte → class; ASCII letters share a class with their other case
	nc  int32      // classes
	// maxLit is the longest literal's length in bytes.
	maxLit int
	trans  []int32   // state*nc + class → next state*nc; ^(next*nc) when the next state reports
	outs   [][]int32 // state → pattern ids whose literal ends here (failure-link closure)
	// foldSensitive: some literal came from (?i) and holds the letter k or
	// s, which (?i) also matches as U+212A or U+017F.
	foldSensitive bool
}

// dfaPattern is one pattern's contribution: its literals, or always when
// it has none the automaton can look for.
type dfaPattern struct {
	lits   []string
	always bool
}

// patternLits analyses a compiled pattern into the literals the automaton
// looks for.
func patternLits(re *regexp.Regexp) (dfaPattern, bool, error) {
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return dfaPattern{}, false, fmt.Errorf("pattern %q: %w", re.String(), err)
	}
	ls, ok := required(tree.Simplify())
	if !ok {
		return dfaPattern{always: true}, false, nil
	}
	var p dfaPattern
	sensitive := false
	for _, l := range ls {
		s := l.s
		if l.fold {
			s = longestASCIIRun(s)
			for i := 0; i < len(s); i++ {
				if c := s[i] | 0x20; c == 'k' || c == 's' {
					sensitive = true
				}
			}
		}
		if s == "" {
			return dfaPattern{always: true}, false, nil
		}
		p.lits = append(p.lits, s)
	}
	return p, sensitive, nil
}

// longestASCIIRun returns the longest run of ASCII bytes in s.
func longestASCIIRun(s string) string {
	best, start := "", 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] >= utf8.RuneSelf {
			if i-start > len(best) {
				best = s[start:i]
			}
			start = i + 1
		}
	}
	return best
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// newLitDFA builds the automaton over lits[id] (the literals of pattern id;
// patterns with none are not reported).
func newLitDFA(lits [][]string) *litDFA {
	d := &litDFA{}
	// Classes: one per distinct (case-folded) byte used by a literal, class 0
	// for every other byte.
	var id [256]uint8
	next := uint8(1)
	for _, ls := range lits {
		for _, s := range ls {
			d.maxLit = max(d.maxLit, len(s))
			for i := 0; i < len(s); i++ {
				c := lowerASCII(s[i])
				if id[c] == 0 {
					id[c] = next
					next++
				}
			}
		}
	}
	for b := 0; b < 256; b++ {
		d.cls[b] = id[lowerASCII(byte(b))]
	}
	d.nc = int32(next)
	// Trie.
	type node struct {
		child map[uint8]int32
		fail  int32
		out   []int32
	}
	nodes := []node{{child: map[uint8]int32{}}}
	for pid, ls := range lits {
		for _, s := range ls {
			cur := int32(0)
			for i := 0; i < len(s); i++ {
				k := d.cls[s[i]]
				nx, ok := nodes[cur].child[k]
				if !ok {
					nx = int32(len(nodes))
					nodes = append(nodes, node{child: map[uint8]int32{}})
					nodes[cur].child[k] = nx
				}
				cur = nx
			}
			nodes[cur].out = appendUnique(nodes[cur].out, int32(pid))
		}
	}
	// Breadth-first: failure links, output closure, full transition table.
	nc := d.nc
	goTo := make([]int32, len(nodes)*int(nc))
	queue := []int32{0}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for k := int32(0); k < nc; k++ {
			if c, ok := nodes[n].child[uint8(k)]; ok {
				if n == 0 {
					nodes[c].fail = 0
				} else {
					nodes[c].fail = goTo[nodes[n].fail*nc+k]
				}
				for _, o := range nodes[nodes[c].fail].out {
					nodes[c].out = appendUnique(nodes[c].out, o)
				}
				goTo[n*nc+k] = c
				queue = append(queue, c)
			} else if n != 0 {
				goTo[n*nc+k] = goTo[nodes[n].fail*nc+k]
			}
		}
	}
	d.trans = make([]int32, len(goTo))
	d.outs = make([][]int32, len(nodes))
	for i := range nodes {
		d.outs[i] = nodes[i].out
	}
	for i, t := range goTo {
		v := t * nc
		if len(nodes[t].out) > 0 {
			v = ^v
		}
		d.trans[i] = v
	}
	return d
}

func appendUnique(s []int32, v int32) []int32 {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// walk runs the automaton over line and calls hit with the pattern ids of
// every literal occurrence (an id may be reported more than once).
func (d *litDFA) walk(line []byte, hit func(ids []int32)) {
	trans, cls, nc := d.trans, &d.cls, d.nc
	st := int32(0)
	for _, b := range line {
		st = trans[st+int32(cls[b])]
		if st < 0 {
			st = ^st
			hit(d.outs[st/nc])
		}
	}
}
