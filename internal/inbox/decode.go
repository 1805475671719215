package inbox

import (
	"encoding/binary"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Encoding names accepted in the encoding check, as Python spells them.
const (
	EncUTF8        = "utf-8"
	EncWindows1252 = "windows-1252"
	EncLatin1      = "latin-1"
)

// canonicalEncoding maps accepted spellings to the names reports use; ok is
// false for an encoding the checks do not know.
func canonicalEncoding(name string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "utf-8", "utf8":
		return EncUTF8, true
	case "windows-1252", "cp1252":
		return EncWindows1252, true
	case "latin-1", "latin1", "iso-8859-1", "iso8859-1":
		return EncLatin1, true
	}
	return "", false
}

// cp1252Undefined are the bytes Python's cp1252 codec refuses.
var cp1252Undefined = [256]bool{0x81: true, 0x8d: true, 0x8f: true, 0x90: true, 0x9d: true}

// decoder turns a byte stream into characters for one encoding and tracks
// whether the stream so far is valid in it. Multi-byte UTF-8 sequences split
// across chunks are carried over.
type decoder struct {
	enc   string
	valid bool
	carry [utf8.UTFMax]byte
	ncar  int
}

func newDecoder(enc string) *decoder { return &decoder{enc: enc, valid: true} }

// alwaysValid reports whether every byte stream is valid in the encoding.
func (d *decoder) alwaysValid() bool { return d.enc == EncLatin1 }

// sink receives decoded characters: runs of ASCII bytes (the common case,
// passed without per-character calls) and single non-ASCII characters.
// Either returns false when no more characters are wanted.
type sink interface {
	ascii(run []byte) bool
	char(r rune) bool
}

// asciiRun returns the length of the leading run of bytes below 0x80.
func asciiRun(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= utf8.RuneSelf {
			return i
		}
	}
	return len(b)
}

// decode feeds chunk to out (nil: validity only). It returns whether out
// asked to stop; validity tracking continues to the end of the chunk.
func (d *decoder) decode(chunk []byte, out sink) (stopped bool) {
	if !d.valid {
		return false
	}
	switch d.enc {
	case EncLatin1, EncWindows1252:
		cp := d.enc == EncWindows1252
		if out == nil {
			if cp {
				d.validateSingle(chunk)
			}
			return false
		}
		for i := 0; i < len(chunk); {
			if n := asciiRun(chunk[i:]); n > 0 {
				if !out.ascii(chunk[i : i+n]) {
					d.validateSingle(chunk[i+n:])
					return true
				}
				i += n
				continue
			}
			b := chunk[i]
			i++
			if cp && cp1252Undefined[b] {
				d.valid = false
				return false
			}
			r := rune(b)
			if cp {
				r = cp1252Rune(b)
			}
			if !out.char(r) {
				d.validateSingle(chunk[i:])
				return true
			}
		}
	default: // utf-8
		return d.decodeUTF8(chunk, out)
	}
	return false
}

// validateSingle tracks validity of the rest of a chunk for cp1252.
func (d *decoder) validateSingle(rest []byte) {
	if d.enc != EncWindows1252 {
		return
	}
	for i := 0; i < len(rest); {
		if n := asciiRun(rest[i:]); n > 0 {
			i += n
			continue
		}
		if cp1252Undefined[rest[i]] {
			d.valid = false
			return
		}
		i++
	}
}

func cp1252Rune(b byte) rune {
	if b < 0x80 || b >= 0xa0 {
		return rune(b)
	}
	return charmap.Windows1252.DecodeByte(b)
}

func (d *decoder) decodeUTF8(chunk []byte, out sink) bool {
	if d.ncar > 0 {
		// complete the carried sequence with bytes from chunk
		need := 0
		for need = 1; need <= len(chunk) && d.ncar+need <= utf8.UTFMax; need++ {
			buf := append(d.carry[:d.ncar:d.ncar], chunk[:need]...)
			if utf8.FullRune(buf) {
				r, size := utf8.DecodeRune(buf)
				if r == utf8.RuneError && size <= 1 {
					d.valid = false
					return false
				}
				d.ncar = 0
				chunk = chunk[need:]
				if out != nil && !out.char(r) {
					return d.finishValidate(chunk)
				}
				break
			}
		}
		if d.ncar > 0 { // still incomplete: chunk was too short
			n := copy(d.carry[d.ncar:], chunk)
			d.ncar += n
			return false
		}
	}
	for i := 0; i < len(chunk); {
		if n := asciiRun(chunk[i:]); n > 0 {
			if out != nil && !out.ascii(chunk[i:i+n]) {
				return d.finishValidate(chunk[i+n:])
			}
			i += n
			continue
		}
		if !utf8.FullRune(chunk[i:]) {
			d.ncar = copy(d.carry[:], chunk[i:])
			return false
		}
		r, size := utf8.DecodeRune(chunk[i:])
		if r == utf8.RuneError && size <= 1 {
			d.valid = false
			return false
		}
		i += size
		if out != nil && !out.char(r) {
			return d.finishValidate(chunk[i:])
		}
	}
	return false
}

// finishValidate validates the rest of a chunk after emit stopped.
func (d *decoder) finishValidate(rest []byte) bool {
	d.decodeUTF8(rest, nil)
	return true
}

// end reports whether the stream was valid through its end (an unfinished
// multi-byte sequence is not).
func (d *decoder) end() bool {
	if d.ncar > 0 {
		d.valid = false
	}
	return d.valid
}
