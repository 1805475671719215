package logs

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestCompressorRoundTripsAndKeepsTail(t *testing.T) {
	var gz gzipWriters
	in := strings.Repeat("line of a CI log\n", 5000)
	for range 2 { // the second round reuses the pooled writer
		var out bytes.Buffer
		tail := &tailBuf{max: 1000}
		c := &compressor{ctx: context.Background(), gate: make(cpuGate, 1), tail: tail, dst: &out}
		c.zw = gz.get(&c.buf)
		if _, err := io.Copy(c, strings.NewReader(in)); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		gz.put(c.zw)
		zr, err := gzip.NewReader(&out)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || string(got) != in {
			t.Fatalf("gunzip: %d bytes, err %v; want the %d bytes written", len(got), err, len(in))
		}
		text, first := tail.tail()
		if len(text) == 0 || len(text) > 1000 || !strings.HasSuffix(in, string(text)) || first != 5000-len(text)/17+1 {
			t.Fatalf("tail: %d bytes from line %d", len(text), first)
		}
	}
}

func TestCompressorWaitsForTheGateAndStopsOnCancel(t *testing.T) {
	gate := make(cpuGate, 1)
	gate <- struct{}{} // another download holds the only CPU slot
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	c := &compressor{ctx: ctx, gate: gate, tail: &tailBuf{max: 10}, dst: &out}
	c.zw = gzip.NewWriter(&c.buf)
	done := make(chan error, 1)
	go func() { _, err := c.Write([]byte("x\n")); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("Write returned %v while the gate was held", err)
	case <-time.After(50 * time.Millisecond):
	}
	gate.release()
	if err := <-done; err != nil {
		t.Fatalf("Write after release: %v", err)
	}
	gate <- struct{}{}
	go func() { _, err := c.Write([]byte("y\n")); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with the gate held and ctx cancelled = %v, want context.Canceled", err)
	}
}
