package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"testing/iotest"
)

func TestReadHead(t *testing.T) {
	const limit = 4096
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 511, 512, 513, 3000, limit - 1, limit, limit + 1, 3*limit + 7} {
		body := make([]byte, size)
		for i := range body {
			body[i] = byte(rng.Uint32())
		}
		for _, hint := range []int64{-1, 0, int64(size), int64(size) / 2, int64(size) * 3} {
			for _, oneByte := range []bool{false, true} {
				t.Run(fmt.Sprintf("size%d/hint%d/onebyte%v", size, hint, oneByte), func(t *testing.T) {
					var r io.Reader = bytes.NewReader(body)
					if oneByte {
						r = iotest.OneByteReader(r)
					}
					var p bufPool
					h, err := p.readHead(r, limit, hint)
					if err != nil {
						t.Fatal(err)
					}
					defer h.release()
					if h.whole != (size <= limit) {
						t.Fatalf("whole = %v for %d bytes with limit %d", h.whole, size, limit)
					}
					got := append([]byte(nil), h.data...)
					if !h.whole {
						if len(h.data) != limit {
							t.Fatalf("len(data) = %d, want the limit %d", len(h.data), limit)
						}
						rest, err := io.ReadAll(h.rest)
						if err != nil {
							t.Fatal(err)
						}
						got = append(got, rest...)
					} else if h.rest != nil {
						t.Fatal("rest is set for a whole body")
					}
					if !bytes.Equal(got, body) {
						t.Fatalf("read back %d bytes, not the %d-byte body", len(got), len(body))
					}
				})
			}
		}
	}
}

func TestReadHeadError(t *testing.T) {
	var p bufPool
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader(make([]byte, 700)), iotest.ErrReader(boom))
	if _, err := p.readHead(r, 4096, 2000); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the reader's error", err)
	}
}

// TestReadHeadSmallBodyReusesBuffers: a small body costs a buffer sized to it,
// taken from the pool, so reading many small bodies does not allocate per
// object what a part (or gocloud's 1 MiB copy buffer) would cost.
func TestReadHeadSmallBodyReusesBuffers(t *testing.T) {
	var p bufPool
	body := make([]byte, 300)
	r := bytes.NewReader(body)
	h, err := p.readHead(r, 5<<20, int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	if c := cap(*h.buf); c != 512 {
		t.Fatalf("a 300-byte body got a %d-byte buffer, want 512", c)
	}
	h.release()
	var sink int
	allocs := testing.AllocsPerRun(200, func() {
		r.Reset(body)
		h, err := p.readHead(r, 5<<20, int64(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		sink += len(h.data)
		h.release()
	})
	// The head itself is one small allocation; the buffer comes from the pool.
	if allocs > 2 {
		t.Fatalf("%.1f allocations per small body, want at most 2 (no new buffer)", allocs)
	}
}

// TestPutSmallBodiesAllocateLittle: writing many small objects to mem://
// allocates bytes in proportion to the bodies, not a large buffer per object.
func TestPutSmallBodiesAllocateLittle(t *testing.T) {
	ctx := context.Background()
	b, err := Open(ctx, "mem://", Options{PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	body := bytes.Repeat([]byte("x"), 300)
	const n = 200
	var before, after runtimeMem
	before.read()
	for i := range n {
		// A plain reader, as sources pass (no WriterTo to take a shortcut).
		r := struct{ io.Reader }{bytes.NewReader(body)}
		if _, err := b.Put(ctx, fmt.Sprintf("k/%d", i), r, PutOptions{Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
	}
	after.read()
	perObject := (after.total - before.total) / n
	// Each Put costs its bookkeeping (writer, attributes, maps: a few KB); a
	// part-sized or 1 MiB buffer per object would be hundreds of times more.
	if perObject > 64<<10 {
		t.Fatalf("%d bytes allocated per 300-byte object, want under 64 KiB", perObject)
	}
}

// runtimeMem snapshots the bytes allocated so far by the process.
type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}
