package inbox

import "errors"

// This file holds a streaming CSV record scanner with the semantics of
// Python's csv.reader (excel dialect, strict=False, no escape character) fed
// by str.splitlines(keepends=True), which is how the original system parsed
// uploads. It keeps no field contents except the header's, so memory stays
// bounded whatever the file size.
//
// Differences from Go's encoding/csv that matter for the original's answers:
// blank lines are records with 0 fields; a quote inside an unquoted field is
// an ordinary character; after a closing quote any character continues the
// field; every str.splitlines boundary (\n, \r, \r\n, \v, \f, \x1c-\x1e,
// U+0085, U+2028, U+2029) ends a line.

// pyFieldLimit is Python's csv.field_size_limit() default, in characters.
const pyFieldLimit = 131072

// maxHeaderChars and maxHeaderFields cap what is kept of the header for the
// profile and column-name checks; longer headers are still counted correctly.
const (
	maxHeaderChars  = 1 << 20
	maxHeaderFields = 1 << 16
)

// errFieldLimit and errNewline are the parse errors Python's csv module
// raises. NUL is an ordinary character, as in Python 3.11 and later.
var (
	errFieldLimit = errors.New("field larger than field limit (131072)")
	errNewline    = errors.New("new-line character seen in unquoted field")
)

type csvState uint8

const (
	stStartRecord csvState = iota
	stStartField
	stInField
	stInQuoted
	stQuoteInQuoted
	stEatCRNL
)

// recordFunc receives each completed record: its field count and, for the
// first record only, its fields (nil afterwards). Returning false stops the scan.
type recordFunc func(fields int, header []string) bool

// csvScanner consumes runes and line ends and reports records.
type csvScanner struct {
	delim     rune
	state     csvState
	fieldLen  int
	fields    int
	records   int
	keepHdr   bool
	hdr       []string
	hdrChars  int
	cur       []rune
	onRecord  recordFunc
	stopped   bool
	err       error
	pendingCR bool
	// special marks the ASCII bytes feedASCII must not skip: controls
	// (line boundaries among them), the quote and the delimiter.
	special [256]bool
}

func newCSVScanner(delim rune, onRecord recordFunc) *csvScanner {
	s := &csvScanner{delim: delim, keepHdr: true, onRecord: onRecord}
	for c := 0; c < 0x20; c++ {
		s.special[c] = true
	}
	s.special['"'] = true
	if delim < 0x80 {
		s.special[delim] = true
	}
	for c := 0x80; c < 0x100; c++ {
		s.special[c] = true
	}
	return s
}

// isLineBoundary reports whether r ends a line for Python's str.splitlines.
func isLineBoundary(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

// feed processes one decoded character. It returns false once the scan has
// stopped (the callback said so, or a parse error occurred: see err).
func (s *csvScanner) feed(r rune) bool {
	if s.stopped {
		return false
	}
	if s.pendingCR {
		s.pendingCR = false
		if r == '\n' {
			s.char('\n')
			s.eol()
			return !s.stopped
		}
		s.eol()
		if s.stopped {
			return false
		}
	}
	s.char(r)
	if s.stopped {
		return false
	}
	if r == '\r' {
		s.pendingCR = true
	} else if isLineBoundary(r) {
		s.eol()
	}
	return !s.stopped
}

// feedASCII processes a run of ASCII characters. Ordinary characters
// inside a field (the bulk of any file) only count towards the field length;
// everything else goes through feed.
func (s *csvScanner) feedASCII(b []byte) bool {
	d := byte(0xff)
	if s.delim < 0x80 {
		d = byte(s.delim)
	}
	sp := &s.special
	for i := 0; i < len(b); {
		if !s.pendingCR && !s.keepHdr {
			c := b[i]
			switch s.state {
			case stStartField, stInField, stInQuoted:
				j := i
				for j < len(b) && !sp[b[j]] {
					j++
				}
				if n := j - i; n > 0 {
					if s.fieldLen+n > pyFieldLimit {
						s.fail(errFieldLimit)
						return false
					}
					s.fieldLen += n
					if s.state == stStartField {
						s.state = stInField
					}
					i = j
					continue
				}
				switch {
				case c == d && s.state != stInQuoted:
					// end of an unquoted (or empty) field
					s.fields++
					s.fieldLen = 0
					s.state = stStartField
					i++
					continue
				case c == '"' && s.state == stStartField:
					s.state = stInQuoted
					i++
					continue
				case c == '"' && s.state == stInQuoted:
					s.state = stQuoteInQuoted
					i++
					continue
				}
			case stQuoteInQuoted:
				if c == d {
					s.fields++
					s.fieldLen = 0
					s.state = stStartField
					i++
					continue
				}
			}
		}
		if !s.feed(rune(b[i])) {
			return false
		}
		i++
	}
	return !s.stopped
}

// finish ends the input: a pending line end, then Python's end-of-data rule
// (a started field or an open quote yields a last record).
func (s *csvScanner) finish() {
	if s.stopped {
		return
	}
	if s.pendingCR {
		s.pendingCR = false
		s.eol()
		if s.stopped {
			return
		}
	}
	if s.fieldLen != 0 || s.state == stInQuoted {
		s.saveField()
		s.emit()
		s.state = stStartRecord
	}
}

func (s *csvScanner) fail(err error) {
	s.err = err
	s.stopped = true
}

func (s *csvScanner) addChar(r rune) {
	if s.fieldLen >= pyFieldLimit {
		s.fail(errFieldLimit)
		return
	}
	s.fieldLen++
	if s.keepHdr && s.hdrChars < maxHeaderChars {
		s.cur = append(s.cur, r)
		s.hdrChars++
	}
}

func (s *csvScanner) saveField() {
	s.fields++
	if s.keepHdr && len(s.hdr) < maxHeaderFields {
		s.hdr = append(s.hdr, string(s.cur))
	}
	s.cur = s.cur[:0]
	s.fieldLen = 0
}

func (s *csvScanner) emit() {
	s.records++
	var hdr []string
	if s.keepHdr {
		hdr = s.hdr
		if hdr == nil {
			hdr = []string{}
		}
		s.keepHdr = false
		s.cur = nil
	}
	n := s.fields
	s.fields = 0
	if !s.onRecord(n, hdr) {
		s.stopped = true
	}
}

// char is Python's parse_process_char for a real character.
func (s *csvScanner) char(c rune) {
	nl := c == '\n' || c == '\r'
	switch s.state {
	case stStartRecord:
		if nl {
			s.state = stEatCRNL
			return
		}
		s.state = stStartField
		fallthrough
	case stStartField:
		switch {
		case nl:
			s.saveField()
			s.state = stEatCRNL
		case c == '"':
			s.state = stInQuoted
		case c == s.delim:
			s.saveField()
		default:
			s.addChar(c)
			s.state = stInField
		}
	case stInField:
		switch {
		case nl:
			s.saveField()
			s.state = stEatCRNL
		case c == s.delim:
			s.saveField()
			s.state = stStartField
		default:
			s.addChar(c)
		}
	case stInQuoted:
		if c == '"' {
			s.state = stQuoteInQuoted
		} else {
			s.addChar(c)
		}
	case stQuoteInQuoted:
		switch {
		case c == '"':
			s.addChar(c)
			s.state = stInQuoted
		case c == s.delim:
			s.saveField()
			s.state = stStartField
		case nl:
			s.saveField()
			s.state = stEatCRNL
		default:
			s.addChar(c)
			s.state = stInField
		}
	case stEatCRNL:
		if !nl {
			s.fail(errNewline)
		}
	}
}

// eol is Python's parse_process_char(EOL) at the end of each line; a record
// is complete when the state returns to the start of a record.
func (s *csvScanner) eol() {
	switch s.state {
	case stStartRecord:
		// empty line: a record with no fields
	case stStartField, stInField, stQuoteInQuoted:
		s.saveField()
	case stInQuoted:
		return // the record continues on the next line
	case stEatCRNL:
	}
	s.state = stStartRecord
	s.emit()
}
