package classify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"regexp/syntax"
	"slices"
)

// fastPath is the one-automaton form of a Classifier: the required literals
// of every rule, ignore_lines pattern and ignored-region boundary go into one
// litDFA, so a line costs one table walk; a line none of whose literals
// occur (and that is not a '+' context line) needs nothing else. Regexps
// run only on the lines (and only for the patterns) the walk names. The
// answers are those of the line-by-line path (scan.line): the differential
// test and FuzzFastPath compare them.
type fastPath struct {
	dfa    *litDFA
	nRules int32
	nDrops int32
	// Rules without literals, ascending, and their alternation, run on a
	// line when one of them could still win.
	always []int32
	gate   *regexp.Regexp
	// Patterns without literals among the ignore_lines / region boundaries:
	// evaluated on every line where they matter.
	dropAlways, startAlways, endAlways bool
}

// Pattern ids in the automaton: rules [0, nRules), ignore_lines
// [nRules, nRules+nDrops), then the region start and end, then the bytes
// that may begin an escape sequence Normalize removes (ESC, 0xC2): a raw
// line without them is its own normalised form.
func (f *fastPath) startID() int32  { return f.nRules + f.nDrops }
func (f *fastPath) endID() int32    { return f.nRules + f.nDrops + 1 }
func (f *fastPath) escapeID() int32 { return f.nRules + f.nDrops + 2 }

// newFastPath builds the fast path for compiled rules, drops and region.
func newFastPath(rules, drops []*regexp.Regexp, start, end *regexp.Regexp) (*fastPath, error) {
	f := &fastPath{nRules: int32(len(rules)), nDrops: int32(len(drops))}
	var lits [][]string
	sensitive := false
	add := func(re *regexp.Regexp) (bool, error) {
		p, sens, err := patternLits(re)
		if err != nil {
			return false, err
		}
		sensitive = sensitive || sens
		lits = append(lits, p.lits)
		return p.always, nil
	}
	var gateSubs []*syntax.Regexp
	for i, re := range rules {
		always, err := add(re)
		if err != nil {
			return nil, err
		}
		if always {
			f.always = append(f.always, int32(i))
			tree, err := syntax.Parse(re.String(), syntax.Perl)
			if err != nil {
				return nil, err
			}
			gateSubs = append(gateSubs, tree.Simplify())
		}
	}
	for _, re := range drops {
		always, err := add(re)
		if err != nil {
			return nil, err
		}
		f.dropAlways = f.dropAlways || always
	}
	if start != nil {
		a, err := add(start)
		if err != nil {
			return nil, err
		}
		b, err := add(end)
		if err != nil {
			return nil, err
		}
		f.startAlways, f.endAlways = a, b
	} else {
		lits = append(lits, nil, nil)
	}
	lits = append(lits, []string{"\x1b", "\xc2"})
	f.dfa = newLitDFA(lits)
	f.dfa.foldSensitive = sensitive
	if len(gateSubs) > 0 {
		alt := &syntax.Regexp{Op: syntax.OpAlternate, Sub: gateSubs}
		if len(gateSubs) == 1 {
			alt = gateSubs[0]
		}
		g, err := regexp.Compile(alt.String())
		if err != nil {
			return nil, fmt.Errorf("combine patterns without literals: %w", err)
		}
		f.gate = g
	}
	return f, nil
}

// unsafeForDFA reports whether line holds a character that (?i) equates
// with an ASCII letter (U+212A KELVIN SIGN, U+017F LONG S), which the
// automaton's ASCII case folding does not see.
func unsafeForDFA(line []byte) bool {
	return (bytes.IndexByte(line, 0xe2) >= 0 && bytes.Contains(line, []byte("\u212a"))) ||
		(bytes.IndexByte(line, 0xc5) >= 0 && bytes.Contains(line, []byte("\u017f")))
}

// fastLine is scan.line through the automaton.
func (s *scan) fastLine(raw []byte, num int) {
	if n := len(raw); n > 0 && raw[n-1] == '\r' {
		raw = raw[:n-1]
	}
	f := s.c.fast
	line := raw
	if hasTimestamp(line) {
		line = line[tsLen:]
	}
	// Walk the raw line; one that may hold an escape sequence is normalised
	// and walked again.
	if s.walk(line, true) {
		var copied bool
		line, copied = normalize(s.buf, raw)
		if copied {
			s.buf = line[:0]
		}
		s.walk(line, false)
	}
	if f.dfa.foldSensitive && unsafeForDFA(line) {
		s.lineNormalized(line, num)
		return
	}
	best := int32(s.best)
	hitStart, hitEnd, hitDrop := s.hitStart, s.hitEnd, s.hitDrop
	plus := len(s.ring) > 0 && len(line) > 0 && line[0] == '+'
	gate := len(f.always) > 0 && f.always[0] <= best
	region := false
	if s.c.start != nil {
		if s.ignoring {
			if !hitEnd && !f.endAlways {
				return // inside the region, and its end cannot be here
			}
			region = true
		} else {
			region = hitStart || f.startAlways
		}
	}
	if len(s.cand) == 0 && !gate && !plus && !region {
		return // nothing on this line can match or change the state
	}
	if s.drop != nil && (hitDrop || f.dropAlways) && s.dropped(line) {
		return
	}
	if s.c.start != nil {
		if s.ignoring {
			if s.c.end.Match(line) {
				s.ignoring = false
			}
			return
		}
		if region && s.c.start.Match(line) {
			s.ignoring = true
			return
		}
	}
	if plus {
		s.pushContext(line)
	}
	if gate && f.gate.Match(line) {
		for _, id := range f.always {
			if id <= best && s.stamp[id] != s.gen {
				s.stamp[id] = s.gen
				s.cand = append(s.cand, id)
			}
		}
	}
	if len(s.cand) > 1 {
		slices.Sort(s.cand)
	}
	s.tryRules(line, num, s.cand)
}

// block processes the lines of data, each ending in '\n' except perhaps the
// last, numbering them after num; it returns the last line's number.
func (s *scan) block(data []byte, num int) int {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		num++
		s.fastLine(line, num)
	}
	return num
}

// readChunk is how much ClassifyReaderFrom reads at a time (a line longer
// than this grows the buffer to hold it).
const readChunk = 1 << 20

// classifyReaderFast is ClassifyReaderFrom through the automaton: the log
// is read in large chunks and every complete line in a chunk is processed
// in place (no per-line copy); memory is bounded by the chunk size or the
// longest line.
func (c *Classifier) classifyReaderFast(r io.Reader, first int, chunk int) (*Match, error) {
	s := c.newScan()
	buf := make([]byte, 0, chunk)
	num := first - 1
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf)) // a line longer than the buffer
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read log: %w", err)
		}
		if errors.Is(err, io.EOF) {
			s.block(buf, num)
			return s.result(), nil
		}
		if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
			num = s.block(buf[:i+1], num)
			rest := copy(buf, buf[i+1:])
			buf = buf[:rest]
		}
	}
}

// walk runs the automaton over line, leaving in s.cand the rules at or
// above the best so far whose literals occur, and in s.hit* whether an
// ignore_lines pattern or region marker may match. With bail it stops and
// returns true at the first byte that may begin an escape sequence.
func (s *scan) walk(line []byte, bail bool) bool {
	f := s.c.fast
	d := f.dfa
	s.gen++
	if s.gen == 0 {
		clear(s.stamp)
		s.gen = 1
	}
	s.cand = s.cand[:0]
	s.hitDrop, s.hitStart, s.hitEnd = false, false, false
	best := int32(s.best)
	trans, cls, nc := d.trans, &d.cls, d.nc
	st := int32(0)
	for _, b := range line {
		st = trans[st+int32(cls[b])]
		if st >= 0 {
			continue
		}
		st = ^st
		for _, id := range d.outs[st/nc] {
			switch {
			case id < f.nRules:
				if id <= best && s.stamp[id] != s.gen {
					s.stamp[id] = s.gen
					s.cand = append(s.cand, id)
				}
			case id < f.nRules+f.nDrops:
				s.hitDrop = true
			case id == f.startID():
				s.hitStart = true
			case id == f.endID():
				s.hitEnd = true
			case bail:
				return true
			}
		}
	}
	return false
}
