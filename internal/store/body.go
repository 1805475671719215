package store

import (
	"bytes"
	"errors"
	"io"
	"math/bits"
	"sync"
)

// Body buffers. Every driver reads the start of a body (up to one part) into
// memory before it writes: a body shorter than a part then goes in one
// request, and the buffer is sized to the body, not to the part. Buffers come
// from per-Bucket pools of power-of-two size classes, so syncing many small
// files reuses a few small buffers instead of allocating one per object.
const (
	minBufShift = 9  // smallest pooled buffer: 512 bytes
	maxBufShift = 20 // largest pooled buffer: 1 MiB; larger ones are allocated for one use
	// unknownSizeBuf is the first buffer for a body of unknown size; it doubles as needed.
	unknownSizeBuf = 32 << 10
)

// bufPool hands out body buffers by size class. The zero value is ready to use.
type bufPool struct {
	classes [maxBufShift - minBufShift + 1]sync.Pool // of *[]byte, len == cap == 1<<(minBufShift+i)
}

// class returns the size class index fitting n bytes, and false when n is
// larger than the largest pooled class.
func class(n int) (int, bool) {
	if n <= 1<<minBufShift {
		return 0, true
	}
	s := bits.Len(uint(n - 1)) // 1<<s >= n
	return s - minBufShift, s <= maxBufShift
}

// get returns a buffer of length at least n (the class size when pooled, n otherwise).
func (p *bufPool) get(n int) *[]byte {
	c, ok := class(n)
	if !ok {
		b := make([]byte, n)
		return &b
	}
	if b, _ := p.classes[c].Get().(*[]byte); b != nil {
		return b
	}
	b := make([]byte, 1<<(minBufShift+c))
	return &b
}

// put returns b to its class; buffers that are not of a pooled size are dropped.
func (p *bufPool) put(b *[]byte) {
	n := cap(*b)
	c, ok := class(n)
	if !ok || n != 1<<(minBufShift+c) {
		return
	}
	*b = (*b)[:n]
	p.classes[c].Put(b)
}

// head is the start of a body, read by readHead.
type head struct {
	// data holds the first bytes of the body: all of it when whole, else
	// exactly limit bytes.
	data []byte
	// whole is true when the body ended within data.
	whole bool
	// rest yields the body after data when !whole (nil otherwise).
	rest io.Reader
	buf  *[]byte
	pool *bufPool
}

// release returns the buffer to the pool. data and rest must not be used after.
func (h *head) release() {
	if h.buf != nil {
		h.pool.put(h.buf)
		h.buf, h.data, h.rest = nil, nil, nil
	}
}

// readHead reads the start of r: up to limit bytes into a pooled buffer first
// sized for sizeHint bytes (a hint only: <= 0 means unknown) and grown by
// doubling. It reads one byte past limit to tell whether the body ended, so
// a body of exactly limit bytes is whole. The caller must call release once
// it is done with data and rest.
func (p *bufPool) readHead(r io.Reader, limit, sizeHint int64) (*head, error) {
	want := int64(unknownSizeBuf)
	if sizeHint > 0 {
		want = sizeHint + 1 // + 1: see EOF without a second buffer
	}
	want = min(want, limit+1)
	h := &head{pool: p, buf: p.get(int(want))}
	n := 0
	for {
		end := int(min(int64(len(*h.buf)), limit+1)) // never read more than limit+1 bytes
		m, err := io.ReadFull(r, (*h.buf)[n:end])
		n += m
		if int64(n) > limit { // limit+1 bytes: the body goes on
			h.data = (*h.buf)[:limit]
			h.rest = io.MultiReader(bytes.NewReader((*h.buf)[limit:n]), r)
			return h, nil
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			h.data, h.whole = (*h.buf)[:n], true
			return h, nil
		}
		if err != nil {
			h.release()
			return nil, err
		}
		// The buffer is full and the body goes on: move to a bigger one.
		bigger := p.get(int(min(2*int64(n), limit+1)))
		copy(*bigger, (*h.buf)[:n])
		p.put(h.buf)
		h.buf = bigger
	}
}

// copyBody copies r to w through a pooled buffer of at most 256 KiB. w's
// ReadFrom, if any, is not used (gocloud's allocates 1 MiB per call).
func (p *bufPool) copyBody(w io.Writer, r io.Reader) (int64, error) {
	buf := p.get(256 << 10)
	defer p.put(buf)
	return io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{r}, *buf)
}
