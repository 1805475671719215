package logs

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"runtime"
	"sync"
)

// cpuGate bounds how many downloads compress or classify at the same time,
// independently of how many are waiting on the network: a backlog of logs
// (after a burst or an outage) is worked off with at most CPUWorkers cores,
// so the webhook receiver sharing the process keeps the others.
//
// Measured with bench/webhooks on 2 cores (results-2026-11-27-idle.txt):
// p99 at 500/s while ~1,000 queued 200 KB logs drain after a burst, median
// of 4 runs: 17.6 ms with the gate, 38.4 ms without, 9.5 ms with no logs
// (single runs 9–129 ms in every variant). In the steady state (~17 logs/s)
// the gate makes no measurable difference.
type cpuGate chan struct{}

// defaultCPUWorkers is half the usable cores, at least one.
func defaultCPUWorkers() int { return max(1, runtime.GOMAXPROCS(0)/2) }

func (g cpuGate) acquire(ctx context.Context) error {
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g cpuGate) release() { <-g }

// compressor gzips what is written to it into dst and keeps the plain
// text's tail, holding the gate only while it computes: the compressed bytes
// are handed to dst (a pipe to the store, which may block on the network)
// after the gate is released. io.Copy writes one network read (≤ 32 KiB) at
// a time, so waiting for the gate never blocks another download's reads.
type compressor struct {
	ctx  context.Context
	gate cpuGate
	zw   *gzip.Writer // writes into buf
	buf  bytes.Buffer
	tail *tailBuf
	dst  io.Writer
}

func (c *compressor) Write(p []byte) (int, error) {
	if err := c.gate.acquire(c.ctx); err != nil {
		return 0, err
	}
	_, err := c.zw.Write(p)
	c.tail.Write(p)
	c.gate.release()
	if err != nil {
		return 0, err
	}
	return len(p), c.flush()
}

// Close finishes the gzip stream and hands the rest to dst.
func (c *compressor) Close() error {
	if err := c.gate.acquire(c.ctx); err != nil {
		return err
	}
	err := c.zw.Close()
	c.gate.release()
	if err != nil {
		return err
	}
	return c.flush()
}

func (c *compressor) flush() error {
	if c.buf.Len() == 0 {
		return nil
	}
	_, err := c.dst.Write(c.buf.Bytes())
	c.buf.Reset()
	return err
}

// gzipWriters reuses gzip writers: each holds about 800 KB of compressor
// state that would otherwise be allocated for every log.
type gzipWriters struct{ p sync.Pool }

func (g *gzipWriters) get(w io.Writer) *gzip.Writer {
	if zw, ok := g.p.Get().(*gzip.Writer); ok {
		zw.Reset(w)
		return zw
	}
	return gzip.NewWriter(w)
}

func (g *gzipWriters) put(zw *gzip.Writer) {
	zw.Reset(io.Discard)
	g.p.Put(zw)
}
