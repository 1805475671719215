// Package classify finds the line that explains a failed CI job's log, with
// the semantics of PyTorch's log classifier (pytorch/test-infra,
// aws/lambda/log-classifier), so that its ruleset.toml works unchanged and
// gives the same answers. Docs: docs/webhooks.md, "CI job logs and their classification".
//
//   - Lines are split on '\n' (a trailing '\r' removed) and numbered from 1
//     over the raw input; each is normalised ([Normalize]: GitHub Actions
//     timestamp prefix, then ANSI escapes).
//   - Lines matching an ignore_lines pattern never match, and the region from
//     a line matching ignore_region.start through the next line matching
//     ignore_region.end is ignored (both overridable in the rules file).
//   - The winner is the highest-priority rule (earliest in the file) that
//     matches any line, and within it the last matching line. A pattern
//     without groups captures the whole match; with groups, every
//     participating group in order.
//   - Context: up to N lines starting with '+' (shell traces), walking back
//     from the matched line inclusive, nearest first.
//
// All rules are matched in one pass over the log: the literals the rules,
// ignore_lines patterns and region markers require form one byte DFA that
// walks each line once and names the few regexps worth running on it (see
// fastPath). The line-by-line path (an Aho-Corasick prefilter per line, see
// multi) is the reference it is tested against, and still serves lines
// holding U+212A or U+017F when the ruleset has (?i) literals.
//
//	c, err := classify.New(classify.DefaultRuleset(), classify.Options{})
//	m, err := c.ClassifyReader(r)   // m == nil: no rule matched
package classify

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
)

// DefaultContext is the number of '+' context lines kept when Options.Context is 0.
const DefaultContext = 12

// Match is a classification result, in the JSON shape PyTorch's classifier
// stores.
type Match struct {
	Rule     string   `json:"rule"`
	Line     string   `json:"line"`
	LineNum  int      `json:"line_num"`
	Captures []string `json:"captures"`
	Context  []string `json:"context"`
}

// Options tunes a Classifier.
type Options struct {
	// Context is how many '+' lines to collect; 0 means DefaultContext, a
	// negative value none.
	Context int
}

// ContextLines returns Options keeping exactly n context lines (n = 0: none),
// for a value the user gave (--context N, webhooks.logs.context); leave
// Options.Context 0 for the default when the user gave none.
func ContextLines(n int) Options {
	if n <= 0 {
		return Options{Context: -1}
	}
	return Options{Context: n}
}

// Classifier applies a compiled ruleset. It is safe for concurrent use.
type Classifier struct {
	names   []string
	rules   *multi
	drop    *multi
	start   *regexp.Regexp // nil: no ignored region
	end     *regexp.Regexp
	context int
	fast    *fastPath
	// longLine is the line length from which the automaton walks a line as
	// two halves at once (defaultLongLine; tests lower it).
	longLine int
}

// New compiles rs.
func New(rs *Ruleset, o Options) (*Classifier, error) {
	if rs == nil || len(rs.Rules) == 0 {
		return nil, errors.New("classify: empty ruleset")
	}
	c := &Classifier{context: o.Context, longLine: defaultLongLine}
	if c.context == 0 {
		c.context = DefaultContext
	}
	if c.context < 0 {
		c.context = 0
	}
	res := make([]*regexp.Regexp, len(rs.Rules))
	for i, r := range rs.Rules {
		re, err := regexp.Compile(r.Pattern)
		if err != nil {
			return nil, fmt.Errorf("%s: rule %d (%q): pattern: %w", rs.Source, i+1, r.Name, err)
		}
		res[i] = re
		c.names = append(c.names, r.Name)
	}
	var err error
	if c.rules, err = newMulti(res); err != nil {
		return nil, fmt.Errorf("%s: %w", rs.Source, err)
	}
	var drops []*regexp.Regexp
	for i, p := range rs.ignoreLines() {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("%s: ignore_lines[%d]: %w", rs.Source, i, err)
		}
		drops = append(drops, re)
	}
	if len(drops) > 0 {
		if c.drop, err = newMulti(drops); err != nil {
			return nil, fmt.Errorf("%s: ignore_lines: %w", rs.Source, err)
		}
	}
	if g := rs.ignoreRegion(); g.Start != "" {
		if c.start, err = regexp.Compile(g.Start); err != nil {
			return nil, fmt.Errorf("%s: ignore_region.start: %w", rs.Source, err)
		}
		if c.end, err = regexp.Compile(g.End); err != nil {
			return nil, fmt.Errorf("%s: ignore_region.end: %w", rs.Source, err)
		}
	}
	var region [2]*regexp.Regexp
	if c.start != nil {
		region = [2]*regexp.Regexp{c.start, c.end}
	}
	if c.fast, err = newFastPath(res, drops, region[0], region[1]); err != nil {
		return nil, fmt.Errorf("%s: %w", rs.Source, err)
	}
	return c, nil
}

// Classify classifies a whole log held in memory.
func (c *Classifier) Classify(log []byte) *Match {
	return c.ClassifyFrom(log, 1)
}

// ClassifyFrom is Classify for a log whose first line is number first (the
// tail of a longer log, keeping the true line numbers).
func (c *Classifier) ClassifyFrom(log []byte, first int) *Match {
	s := c.newScan()
	s.block(log, first-1)
	return s.result()
}

// classifyBaseline is ClassifyFrom through the line-by-line path (the
// Aho-Corasick prefilter per line, no automaton): the reference the fast
// path is tested against.
func (c *Classifier) classifyBaseline(log []byte, first int) *Match {
	s := c.newScan()
	num := first - 1
	for len(log) > 0 {
		line := log
		if i := bytes.IndexByte(log, '\n'); i >= 0 {
			line, log = log[:i], log[i+1:]
		} else {
			log = nil
		}
		num++
		s.line(line, num)
	}
	return s.result()
}

// ClassifyReader classifies a log read from r in large chunks (memory is
// bounded by the chunk size or the longest line, not the log).
func (c *Classifier) ClassifyReader(r io.Reader) (*Match, error) {
	return c.ClassifyReaderFrom(r, 1)
}

// ClassifyReaderFrom is ClassifyReader for a log whose first line is number
// first (used to classify the tail of a log with its true line numbers).
func (c *Classifier) ClassifyReaderFrom(r io.Reader, first int) (*Match, error) {
	return c.classifyReaderFast(r, first, readChunk)
}

// classifyReaderBaseline is ClassifyReaderFrom line by line through the
// line-by-line path: the reference for the differential test.
func (c *Classifier) classifyReaderBaseline(r io.Reader, first int) (*Match, error) {
	s := c.newScan()
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	num := first - 1
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, chunk...)
			continue
		}
		line := chunk
		if long != nil {
			long = append(long, chunk...)
			line = long
		}
		if len(line) > 0 {
			if line[len(line)-1] == '\n' {
				line = line[:len(line)-1]
			}
			num++
			s.line(line, num)
		}
		long = long[:0:0]
		if err == io.EOF {
			return s.result(), nil
		}
		if err != nil {
			return nil, fmt.Errorf("read log: %w", err)
		}
	}
}

// scan is the state of one pass over a log.
type scan struct {
	c        *Classifier
	rules    *multi
	drop     *multi
	ignoring bool
	buf      []byte

	best     int // index of the best rule so far; len(rules) when none
	bestLine []byte
	bestNum  int
	bestSub  []int
	bestCtx  []string

	ring [][]byte // last '+' lines, ring[(head-1)%len] newest
	head int
	n    int

	// fast path scratch (see fastLine)
	stamp  []uint32
	gen    uint32
	ha, hb hits
}

func (c *Classifier) newScan() *scan {
	s := &scan{c: c, rules: c.rules.clone(), best: len(c.names)}
	if c.drop != nil {
		s.drop = c.drop.clone()
	}
	if c.context > 0 {
		s.ring = make([][]byte, c.context)
	}
	if c.fast != nil {
		s.stamp = make([]uint32, len(c.names))
	}
	return s
}

// line processes raw line number num (without its '\n').
func (s *scan) line(raw []byte, num int) {
	if n := len(raw); n > 0 && raw[n-1] == '\r' {
		raw = raw[:n-1]
	}
	line, copied := normalize(s.buf, raw)
	if copied {
		s.buf = line[:0]
	}
	s.lineNormalized(line, num)
}

// lineNormalized is line for a line already normalised.
func (s *scan) lineNormalized(line []byte, num int) {
	if s.drop != nil && s.dropped(line) {
		return
	}
	if s.c.start != nil {
		if s.ignoring {
			if s.c.end.Match(line) {
				s.ignoring = false
			}
			return
		}
		if s.c.start.Match(line) {
			s.ignoring = true
			return
		}
	}
	if len(s.ring) > 0 && len(line) > 0 && line[0] == '+' {
		s.pushContext(line)
	}
	s.tryRules(line, num, s.rules.candidates(line, s.best+1))
}

// dropped reports whether line matches an ignore_lines pattern.
func (s *scan) dropped(line []byte) bool {
	for _, i := range s.drop.candidates(line, len(s.drop.res)) {
		if s.drop.res[i].Match(line) {
			return true
		}
	}
	return false
}

// pushContext records a '+' line in the context ring (a copy: line's
// storage is reused).
func (s *scan) pushContext(line []byte) {
	s.ring[s.head] = append(s.ring[s.head][:0], line...)
	s.head = (s.head + 1) % len(s.ring)
	s.n = min(s.n+1, len(s.ring))
}

// tryRules runs the candidate rules (ascending, all at or above the best so
// far) on line; the first that matches becomes the best.
func (s *scan) tryRules(line []byte, num int, cands []int32) {
	for _, i := range cands {
		if int(i) > s.best {
			break // cands are ascending; these were candidates before the best improved
		}
		sub := s.rules.res[i].FindSubmatchIndex(line)
		if sub == nil {
			continue
		}
		s.best, s.bestNum, s.bestSub = int(i), num, sub
		s.bestLine = append(s.bestLine[:0], line...)
		s.bestCtx = s.bestCtx[:0]
		for k := 1; k <= s.n; k++ {
			s.bestCtx = append(s.bestCtx, string(s.ring[(s.head-k+len(s.ring))%len(s.ring)]))
		}
		return
	}
}

func (s *scan) result() *Match {
	if s.best >= len(s.c.names) {
		return nil
	}
	m := &Match{Rule: s.c.names[s.best], Line: string(s.bestLine), LineNum: s.bestNum,
		Captures: []string{}, Context: append([]string{}, s.bestCtx...)}
	sub := s.bestSub
	if len(sub) == 2 {
		m.Captures = append(m.Captures, string(s.bestLine[sub[0]:sub[1]]))
	} else {
		for k := 2; k+1 < len(sub); k += 2 {
			if sub[k] >= 0 {
				m.Captures = append(m.Captures, string(s.bestLine[sub[k]:sub[k+1]]))
			}
		}
	}
	return m
}
