package inbox

import (
	"strings"
	"unicode"
)

// SniffDelimiter guesses the delimiter of sample among allowed, with the
// answers of Python's csv.Sniffer().sniff(sample, allowed): first the
// quoted-field heuristic, then the per-line frequency consistency test over
// chunks of ten lines, preferring ',' then '\t' then ';', ' ', ':' when
// several qualify. ok is false when the sniffer cannot decide (Python raises
// "Could not determine delimiter"); callers then fall back on the file name.
func SniffDelimiter(sample []rune, allowed []rune) (delim rune, ok bool) {
	if d := guessQuoteAndDelimiter(sample, allowed); d != 0 {
		return d, true
	}
	if d := guessDelimiter(sample, allowed); d != 0 {
		return d, true
	}
	return 0, false
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

// isDelimClass is the regex class [^\w\n"'] of the sniffer's quote patterns.
func isDelimClass(r rune) bool { return r != '\n' && r != '"' && r != '\'' && !isWordRune(r) }

func isQuote(r rune) bool { return r == '"' || r == '\'' }

func containsRune(set []rune, r rune) bool {
	for _, x := range set {
		if x == r {
			return true
		}
	}
	return false
}

// quoteMatch is one match of a quote pattern: its quote, delimiter (0 when
// the pattern has none) and whether a space followed the delimiter.
type quoteMatch struct {
	quote, delim rune
	space        bool
	hasDelim     bool
}

// guessQuoteAndDelimiter runs the sniffer's four quote patterns in order and
// uses the matches of the first that matches anywhere:
//
//	delim space? Q .*? Q delim     |  ^ Q .*? Q delim space?
//	delim space? Q .*? Q ($|\n)    |  ^ Q .*? Q ($|\n)
//
// (DOTALL, MULTILINE; non-overlapping, left to right; .*? the shortest).
func guessQuoteAndDelimiter(data []rune, allowed []rune) rune {
	var matches []quoteMatch
	for p := 1; p <= 4 && len(matches) == 0; p++ {
		matches = findQuoteMatches(data, p)
	}
	if len(matches) == 0 {
		return 0
	}
	counts := map[rune]int{}
	var order []rune
	for _, m := range matches {
		if !m.hasDelim || m.delim == 0 || !containsRune(allowed, m.delim) {
			continue
		}
		if counts[m.delim] == 0 {
			order = append(order, m.delim)
		}
		counts[m.delim]++
	}
	if len(order) == 0 {
		return 0
	}
	best := order[0]
	for _, d := range order[1:] {
		if counts[d] > counts[best] {
			best = d
		}
	}
	if best == '\n' {
		return 0
	}
	return best
}

// closeAt finds the smallest j >= from with data[j] == q and after(j+1) true.
func closeAt(data []rune, from int, q rune, after func(k int) bool) int {
	for j := from; j < len(data); j++ {
		if data[j] == q && after(j+1) {
			return j
		}
	}
	return -1
}

// findQuoteMatches returns the non-overlapping matches of quote pattern p (1–4).
func findQuoteMatches(data []rune, p int) []quoteMatch {
	var out []quoteMatch
	n := len(data)
	lineEnd := func(k int) bool { return k == n || data[k] == '\n' }
	for i := 0; i < n; {
		var m quoteMatch
		end := -1
		switch p {
		case 1, 3:
			if !isDelimClass(data[i]) {
				break
			}
			d := data[i]
			q := i + 1
			sp := false
			if q < n && data[q] == ' ' {
				q, sp = q+1, true
			}
			if q >= n || !isQuote(data[q]) {
				break
			}
			var j int
			if p == 1 {
				j = closeAt(data, q+1, data[q], func(k int) bool { return k < n && data[k] == d })
				if j >= 0 {
					end = j + 2
				}
			} else {
				j = closeAt(data, q+1, data[q], lineEnd)
				if j >= 0 {
					end = j + 1
				}
			}
			m = quoteMatch{quote: data[q], delim: d, space: sp, hasDelim: true}
		case 2, 4:
			// (?:^|\n): at a line start, or consuming a '\n'.
			for _, q := range []int{i, i + 1} {
				if q == i && !(i == 0 || data[i-1] == '\n') {
					continue
				}
				if q == i+1 && data[i] != '\n' {
					continue
				}
				if q >= n || !isQuote(data[q]) {
					continue
				}
				if p == 2 {
					j := closeAt(data, q+1, data[q], func(k int) bool { return k < n && isDelimClass(data[k]) })
					if j < 0 {
						continue
					}
					e := j + 2
					sp := e < n && data[e] == ' '
					if sp {
						e++
					}
					m = quoteMatch{quote: data[q], delim: data[j+1], space: sp, hasDelim: true}
					end = e
				} else {
					j := closeAt(data, q+1, data[q], lineEnd)
					if j < 0 {
						continue
					}
					m = quoteMatch{quote: data[q]}
					end = j + 1
				}
				break
			}
		}
		if end < 0 {
			i++
			continue
		}
		out = append(out, m)
		i = end
	}
	return out
}

// preferredDelims is the sniffer's preference order when several qualify.
var preferredDelims = []rune{',', '\t', ';', ' ', ':'}

type modeVal struct{ freq, count int }

// guessDelimiter is the sniffer's frequency test: over growing chunks of
// ten non-empty lines, a delimiter whose most common per-line count (less
// the lines that disagree) covers at least 90–100% of the lines qualifies.
func guessDelimiter(sample []rune, allowed []rune) rune {
	var lines []string
	for _, l := range strings.Split(string(sample), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	chunk := min(10, len(lines))
	// per allowed delimiter: frequency -> lines, and first-seen order of frequencies
	type freqTable struct {
		counts map[int]int
		order  []int
	}
	tables := make([]freqTable, len(allowed))
	for k := range tables {
		tables[k] = freqTable{counts: map[int]int{}}
	}
	modes := map[rune]modeVal{}
	var modeOrder []rune
	delims := map[rune]modeVal{}
	var delimOrder []rune
	iteration := 0
	for start, end := 0, chunk; start < len(lines); start, end = end, end+chunk {
		iteration++
		for _, line := range lines[start:min(end, len(lines))] {
			for k, d := range allowed {
				f := strings.Count(line, string(d))
				t := &tables[k]
				if _, seen := t.counts[f]; !seen {
					t.order = append(t.order, f)
				}
				t.counts[f]++
			}
		}
		for k, d := range allowed {
			t := tables[k]
			if len(t.order) == 0 || (len(t.order) == 1 && t.order[0] == 0) {
				continue
			}
			var mv modeVal
			if len(t.order) > 1 {
				best := t.order[0]
				for _, f := range t.order[1:] {
					if t.counts[f] > t.counts[best] {
						best = f
					}
				}
				rest := 0
				for _, f := range t.order {
					if f != best {
						rest += t.counts[f]
					}
				}
				mv = modeVal{best, t.counts[best] - rest}
			} else {
				mv = modeVal{t.order[0], t.counts[t.order[0]]}
			}
			if _, ok := modes[d]; !ok {
				modeOrder = append(modeOrder, d)
			}
			modes[d] = mv
		}
		total := float64(min(chunk*iteration, len(lines)))
		for consistency := 1.0; len(delims) == 0 && consistency >= 0.9; consistency -= 0.01 {
			for _, d := range modeOrder {
				v := modes[d]
				if v.freq > 0 && v.count > 0 && float64(v.count)/total >= consistency {
					if _, ok := delims[d]; !ok {
						delimOrder = append(delimOrder, d)
					}
					delims[d] = v
				}
			}
		}
		if len(delims) == 1 {
			return delimOrder[0]
		}
	}
	if len(delims) == 0 {
		return 0
	}
	for _, d := range preferredDelims {
		if _, ok := delims[d]; ok {
			return d
		}
	}
	// No preference: the one with the highest (freq, count), as Python sorts.
	best := delimOrder[0]
	for _, d := range delimOrder[1:] {
		a, b := delims[d], delims[best]
		if a.freq > b.freq || (a.freq == b.freq && (a.count > b.count || (a.count == b.count && d > best))) {
			best = d
		}
	}
	return best
}
