package classify

import "bytes"

// tsLen is the length of a GitHub Actions timestamp prefix
// "YYYY-MM-DDTHH:MM:SS.fffffffZ " (exactly 7 fractional digits, then a space).
const tsLen = 29

// hasTimestamp reports whether line starts with a GitHub Actions timestamp
// prefix of exactly tsLen bytes.
func hasTimestamp(line []byte) bool {
	if len(line) < tsLen || line[28] != ' ' || line[27] != 'Z' || line[10] != 'T' || line[4] != '-' ||
		line[7] != '-' || line[13] != ':' || line[16] != ':' || line[19] != '.' {
		return false
	}
	for _, i := range tsDigits {
		if line[i]-'0' > 9 {
			return false
		}
	}
	return true
}

// tsDigits are the positions of the digits in a timestamp prefix.
var tsDigits = [...]uint8{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22, 23, 24, 25, 26}

// Normalize returns line as the classifier matches it: a leading GitHub
// Actions timestamp prefix removed, then ANSI escape sequences removed
// anywhere. The removed sequences are
//
//   - ESC followed by one byte in '@'..'Z' or '\\'..'_' (7-bit C1 controls),
//   - CSI sequences: ESC '[' or the character U+009B, then parameter bytes
//     '0'..'?', intermediate bytes ' '..'/', and one final byte '@'..'~'
//     (an unterminated CSI is kept as it is),
//   - the characters U+0080..U+009A and U+009C..U+009F (8-bit C1 controls).
//
// The result aliases dst's storage when line needs changes and is line
// itself (no copy) when it does not. Invalid UTF-8 is kept byte for byte.
func Normalize(dst, line []byte) []byte {
	out, _ := normalize(dst, line)
	return out
}

// normalize is Normalize that also reports whether the result was built in
// dst's storage (so the caller can keep a grown buffer).
func normalize(dst, line []byte) ([]byte, bool) {
	if hasTimestamp(line) {
		line = line[tsLen:]
	}
	// Fast path: nothing that can start a sequence.
	if bytes.IndexByte(line, 0x1b) < 0 && bytes.IndexByte(line, 0xc2) < 0 {
		return line, false
	}
	out := dst[:0]
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == 0x1b && i+1 < len(line):
			n := line[i+1]
			if (n >= '@' && n <= 'Z') || (n >= '\\' && n <= '_') {
				i += 2
				continue
			}
			if n == '[' {
				if end := csiEnd(line, i+2); end > 0 {
					i = end
					continue
				}
			}
		case c == 0xc2 && i+1 < len(line) && line[i+1] >= 0x80 && line[i+1] <= 0x9f:
			if line[i+1] != 0x9b {
				i += 2
				continue
			}
			if end := csiEnd(line, i+2); end > 0 {
				i = end
				continue
			}
		}
		out = append(out, c)
		i++
	}
	return out, true
}

// csiEnd returns the index just past a CSI sequence whose parameters start at
// i, or 0 when the sequence has no final byte.
func csiEnd(line []byte, i int) int {
	for i < len(line) && line[i] >= '0' && line[i] <= '?' {
		i++
	}
	for i < len(line) && line[i] >= ' ' && line[i] <= '/' {
		i++
	}
	if i < len(line) && line[i] >= '@' && line[i] <= '~' {
		return i + 1
	}
	return 0
}
