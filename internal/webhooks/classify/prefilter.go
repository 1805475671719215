package classify

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"unicode"
	"unicode/utf8"

	ahocorasick "github.com/BobuSumisu/aho-corasick"
)

// multi matches many regular expressions against a line in one pass: an
// Aho-Corasick automaton finds, in one scan, every literal that some pattern
// requires (a match of the pattern must contain one of its literals), and only
// the patterns whose literal occurs are run. Patterns with no required literal
// are gated by one combined alternation, so a line that none of them matches
// costs one regexp run whatever their number.
//
// The prefilter never changes an answer, only skips patterns that cannot
// match; the property test and the fuzz target compare it with running every
// pattern.
type multi struct {
	res      []*regexp.Regexp
	exact    *ahocorasick.Trie // case-sensitive literals
	exactFor [][]int32         // literal index → pattern indexes
	fold     *ahocorasick.Trie // case-folded literals, matched on the folded line
	foldFor  [][]int32
	always   []int32        // patterns without a required literal
	gate     *regexp.Regexp // alternation of the always patterns

	// scratch, reused per line (a multi is used by one goroutine at a time:
	// the Classifier clones it per scan)
	stamp []uint32
	gen   uint32
	cand  []int32
	fbuf  []byte
}

// maxAlternatives bounds the literal set kept for one pattern.
const maxAlternatives = 64

type lit struct {
	s    string
	fold bool
}

// newMulti builds the matcher for res (already compiled) from their sources.
func newMulti(res []*regexp.Regexp) (*multi, error) {
	m := &multi{res: res, stamp: make([]uint32, len(res))}
	exact := map[string]int{}
	fold := map[string]int{}
	var exactPats, foldPats []string
	var gateSubs []*syntax.Regexp
	for i, re := range res {
		tree, err := syntax.Parse(re.String(), syntax.Perl)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", re.String(), err)
		}
		tree = tree.Simplify()
		ls, ok := required(tree)
		if !ok {
			m.always = append(m.always, int32(i))
			gateSubs = append(gateSubs, tree)
			continue
		}
		for _, l := range ls {
			if l.fold {
				k := foldString(l.s)
				j, seen := fold[k]
				if !seen {
					j = len(foldPats)
					fold[k] = j
					foldPats = append(foldPats, k)
					m.foldFor = append(m.foldFor, nil)
				}
				m.foldFor[j] = append(m.foldFor[j], int32(i))
				continue
			}
			j, seen := exact[l.s]
			if !seen {
				j = len(exactPats)
				exact[l.s] = j
				exactPats = append(exactPats, l.s)
				m.exactFor = append(m.exactFor, nil)
			}
			m.exactFor[j] = append(m.exactFor[j], int32(i))
		}
	}
	if len(exactPats) > 0 {
		m.exact = ahocorasick.NewTrieBuilder().AddStrings(exactPats).Build()
	}
	if len(foldPats) > 0 {
		m.fold = ahocorasick.NewTrieBuilder().AddStrings(foldPats).Build()
	}
	if len(gateSubs) > 0 {
		alt := &syntax.Regexp{Op: syntax.OpAlternate, Sub: gateSubs}
		if len(gateSubs) == 1 {
			alt = gateSubs[0]
		}
		g, err := regexp.Compile(alt.String())
		if err != nil {
			return nil, fmt.Errorf("combine patterns without literals: %w", err)
		}
		m.gate = g
	}
	return m, nil
}

// clone returns a matcher sharing the compiled parts with fresh scratch space.
func (m *multi) clone() *multi {
	c := *m
	c.stamp = make([]uint32, len(m.res))
	c.gen = 0
	c.cand = nil
	c.fbuf = nil
	return &c
}

// candidates returns, in ascending order, the indexes below limit of the
// patterns that may match line. The slice is reused by the next call.
func (m *multi) candidates(line []byte, limit int) []int32 {
	m.gen++
	if m.gen == 0 { // wrapped: clear the stamps
		clear(m.stamp)
		m.gen = 1
	}
	m.cand = m.cand[:0]
	add := func(idx []int32) {
		for _, i := range idx {
			if int(i) < limit && m.stamp[i] != m.gen {
				m.stamp[i] = m.gen
				m.cand = append(m.cand, i)
			}
		}
	}
	if m.exact != nil {
		m.exact.Walk(line, func(_, _, p int64) bool { add(m.exactFor[p]); return true })
	}
	if m.fold != nil {
		m.fbuf = foldBytes(m.fbuf[:0], line)
		m.fold.Walk(m.fbuf, func(_, _, p int64) bool { add(m.foldFor[p]); return true })
	}
	if len(m.always) > 0 && int(m.always[0]) < limit && m.gate.Match(line) {
		add(m.always)
	}
	if len(m.cand) > 1 {
		slices.Sort(m.cand)
	}
	return m.cand
}

// required returns literals such that every match of re contains at least
// one of them, or ok=false when no such set is known.
func required(re *syntax.Regexp) (lits []lit, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		if s == "" || containsRuneError(re.Rune) {
			return nil, false
		}
		f := re.Flags&syntax.FoldCase != 0 && hasFoldable(re.Rune)
		return []lit{{s: s, fold: f}}, true
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
		return nil, false
	case syntax.OpConcat:
		var best []lit
		bestScore := -1
		for _, sub := range re.Sub {
			ls, ok := required(sub)
			if !ok {
				continue
			}
			score := len(ls[0].s)
			for _, l := range ls[1:] {
				score = min(score, len(l.s))
			}
			if score > bestScore || (score == bestScore && len(ls) < len(best)) {
				best, bestScore = ls, score
			}
		}
		return best, best != nil
	case syntax.OpAlternate:
		var all []lit
		for _, sub := range re.Sub {
			ls, ok := required(sub)
			if !ok {
				return nil, false
			}
			all = append(all, ls...)
			if len(all) > maxAlternatives {
				return nil, false
			}
		}
		return all, len(all) > 0
	}
	return nil, false
}

func containsRuneError(rs []rune) bool {
	return slices.Contains(rs, utf8.RuneError)
}

func hasFoldable(rs []rune) bool {
	for _, r := range rs {
		if unicode.SimpleFold(r) != r {
			return true
		}
	}
	return false
}

// foldRune maps r to the smallest rune of its simple case-folding orbit, the
// equivalence regexp's (?i) uses.
func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}

func foldString(s string) string {
	return string(foldBytes(nil, []byte(s)))
}

// foldBytes appends the case-folded form of b to dst: every rune replaced by
// foldRune (ASCII letters become upper case); invalid bytes are kept.
func foldBytes(dst, b []byte) []byte {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, c)
			i++
			continue
		}
		dst = utf8.AppendRune(dst, foldRune(r))
		i += n
	}
	return dst
}
