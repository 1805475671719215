package logs

import (
	"bytes"
	"slices"
)

// tailBuf keeps the last max bytes written to it (a ring once full) and
// counts the lines that fell off the front, so the tail can be classified
// with its true line numbers. Memory is at most max bytes.
type tailBuf struct {
	max          int
	buf          []byte
	pos          int   // ring write position once len(buf) == max
	dropped      int64 // bytes overwritten
	droppedLines int   // '\n' in the overwritten bytes
	boundary     bool  // the last overwritten byte was '\n'
}

func (t *tailBuf) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(t.buf) < t.max {
			k := min(t.max-len(t.buf), len(p))
			t.buf = append(t.buf, p[:k]...)
			p = p[k:]
			continue
		}
		k := min(t.max-t.pos, len(p))
		t.droppedLines += bytes.Count(t.buf[t.pos:t.pos+k], []byte{'\n'})
		t.dropped += int64(k)
		t.boundary = t.buf[t.pos+k-1] == '\n'
		copy(t.buf[t.pos:], p[:k])
		t.pos = (t.pos + k) % t.max
		p = p[k:]
	}
	return n, nil
}

// tail returns the kept bytes starting at a line boundary and the number of
// the first line in them. When bytes were dropped, the partial first line is
// skipped too. The buffer is rotated in place.
func (t *tailBuf) tail() ([]byte, int) {
	if t.dropped == 0 {
		return t.buf, 1
	}
	slices.Reverse(t.buf[:t.pos])
	slices.Reverse(t.buf[t.pos:])
	slices.Reverse(t.buf)
	t.pos = 0
	b := t.buf
	first := t.droppedLines + 1 // the line the cut fell in
	if t.boundary {
		return b, first
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b, first = b[i+1:], first+1
	} else {
		b = nil
	}
	return b, first
}
