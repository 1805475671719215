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

// hits is what a walk of the automaton found on one line.
type hits struct {
	cand                     []int32 // rules at or above the best at walk time, unsorted
	gen                      uint32  // the stamp marking cand's members
	drop, start, end, escape bool
}

// reset empties h for a new walk.
func (s *scan) reset(h *hits) {
	s.gen++
	if s.gen == 0 {
		clear(s.stamp)
		s.gen = 1
	}
	h.gen = s.gen
	h.cand = h.cand[:0]
	h.drop, h.start, h.end, h.escape = false, false, false, false
}

// report records in h the patterns whose literal ends in state st (not
// premultiplied).
func (s *scan) report(h *hits, st int32, best int32) {
	f := s.c.fast
	for _, id := range f.dfa.outs[st] {
		switch {
		case id < f.nRules:
			if id <= best && s.stamp[id] != h.gen {
				s.stamp[id] = h.gen
				h.cand = append(h.cand, id)
			}
		case id < f.nRules+f.nDrops:
			h.drop = true
		case id == f.startID():
			h.start = true
		case id == f.endID():
			h.end = true
		default:
			h.escape = true
		}
	}
}

// walk runs the automaton over line into h (reset first). With bail it
// stops at the first byte that may begin an escape sequence (h.escape).
func (s *scan) walk(line []byte, h *hits, bail bool) {
	s.reset(h)
	d := s.c.fast.dfa
	best := int32(s.best)
	trans, cls, nc := d.trans, &d.cls, d.nc
	st := int32(0)
	for _, b := range line {
		st = trans[st+int32(cls[b])]
		if st < 0 {
			st = ^st
			s.report(h, st/nc, best)
			if bail && h.escape {
				return
			}
		}
	}
}

// walk2 is walk (without bail) over two lines at once: the two table
// walks are independent chains of loads, so the processor overlaps them.
// ha and hb may be the same (two parts of one line).
func (s *scan) walk2(a, b []byte, ha, hb *hits) {
	s.reset(ha)
	if hb != ha {
		s.reset(hb)
	}
	d := s.c.fast.dfa
	best := int32(s.best)
	trans, cls, nc := d.trans, &d.cls, d.nc
	n := min(len(a), len(b))
	a2, b2 := a[:n], b[:n]
	sa, sb := int32(0), int32(0)
	for i := range a2 {
		sa = trans[sa+int32(cls[a2[i]])]
		sb = trans[sb+int32(cls[b2[i]])]
		if sa|sb < 0 {
			if sa < 0 {
				sa = ^sa
				s.report(ha, sa/nc, best)
			}
			if sb < 0 {
				sb = ^sb
				s.report(hb, sb/nc, best)
			}
		}
	}
	for _, c := range a[n:] {
		sa = trans[sa+int32(cls[c])]
		if sa < 0 {
			sa = ^sa
			s.report(ha, sa/nc, best)
		}
	}
	for _, c := range b[n:] {
		sb = trans[sb+int32(cls[c])]
		if sb < 0 {
			sb = ^sb
			s.report(hb, sb/nc, best)
		}
	}
}

// prepare returns raw without a trailing '\r', and the part of it the
// automaton walks first: without the timestamp prefix (the normalised line
// unless it holds an escape sequence).
func prepare(raw []byte) (line, body []byte) {
	if n := len(raw); n > 0 && raw[n-1] == '\r' {
		raw = raw[:n-1]
	}
	if hasTimestamp(raw) {
		return raw, raw[tsLen:]
	}
	return raw, raw
}

// finish is scan.line for a line whose body was walked into h: the
// regexps run only where the walk says they may match.
func (s *scan) finish(raw, body []byte, h *hits, num int) {
	f := s.c.fast
	line := body
	if h.escape {
		var copied bool
		line, copied = normalize(s.buf, raw)
		if copied {
			s.buf = line[:0]
		}
		s.walk(line, h, false)
	}
	if f.dfa.foldSensitive && unsafeForDFA(line) {
		s.lineNormalized(line, num)
		return
	}
	best := int32(s.best)
	plus := len(s.ring) > 0 && len(line) > 0 && line[0] == '+'
	gate := len(f.always) > 0 && f.always[0] <= best
	region := false
	if s.c.start != nil {
		if s.ignoring {
			if !h.end && !f.endAlways {
				return // inside the region, and its end cannot be here
			}
			region = true
		} else {
			region = h.start || f.startAlways
		}
	}
	if len(h.cand) == 0 && !gate && !plus && !region {
		return // nothing on this line can match or change the state
	}
	if s.drop != nil && (h.drop || f.dropAlways) && s.dropped(line) {
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
			if id <= best && s.stamp[id] != h.gen {
				s.stamp[id] = h.gen
				h.cand = append(h.cand, id)
			}
		}
	}
	if len(h.cand) > 1 {
		slices.Sort(h.cand)
	}
	s.tryRules(line, num, h.cand)
}

// block processes the lines of data, each ending in '\n' except perhaps the
// last, numbering them after num; it returns the last line's number. Lines
// are walked two at a time (walk2), then finished in order.
func (s *scan) block(data []byte, num int) int {
	next := func() []byte {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		return line
	}
	long := s.c.longLine
	for len(data) > 0 {
		rawA, bodyA := prepare(next())
		if len(bodyA) >= long {
			s.walkSplit(bodyA, &s.ha)
			num++
			s.finish(rawA, bodyA, &s.ha, num)
			continue
		}
		if len(data) == 0 {
			s.walk(bodyA, &s.ha, true)
			num++
			s.finish(rawA, bodyA, &s.ha, num)
			break
		}
		rawB, bodyB := prepare(next())
		if len(bodyB) >= long {
			s.walk(bodyA, &s.ha, true)
			num++
			s.finish(rawA, bodyA, &s.ha, num)
			s.walkSplit(bodyB, &s.hb)
			num++
			s.finish(rawB, bodyB, &s.hb, num)
			continue
		}
		s.walk2(bodyA, bodyB, &s.ha, &s.hb)
		num++
		s.finish(rawA, bodyA, &s.ha, num)
		num++
		s.finish(rawB, bodyB, &s.hb, num)
	}
	return num
}

// defaultLongLine is the length from which a line is walked as two halves
// at once (walkSplit).
const defaultLongLine = 8 << 10

// walkSplit is walk (without bail) of one long line as two overlapping
// halves walked at once: the first half runs maxLit-1 bytes into the
// second, so every literal occurrence lies wholly within one of them.
func (s *scan) walkSplit(line []byte, h *hits) {
	mid := len(line) / 2
	end := min(len(line), mid+s.c.fast.dfa.maxLit-1)
	s.walk2(line[:end], line[mid:], h, h)
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
