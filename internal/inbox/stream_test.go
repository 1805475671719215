package inbox

import (
	"bytes"
	"context"
	"io"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// genReader produces a CSV of n data rows on the fly (never held whole):
// a header, then rows; when tail is non-empty it is written after the rows.
type genReader struct {
	rows, n int
	buf     []byte
	hdr     bool
	tail    string
	done    bool
	read    int64 // bytes handed out
	calls   int   // Read calls
}

func (g *genReader) Read(p []byte) (int, error) {
	g.calls++
	for len(g.buf) < len(p) && !g.done {
		switch {
		case !g.hdr:
			g.buf = append(g.buf, "houseid,district,address,postcode,station\r\n"...)
			g.hdr = true
		case g.rows < g.n:
			g.rows++
			r := int64(g.rows)
			g.buf = strconv.AppendInt(g.buf, r, 10)
			g.buf = strconv.AppendInt(append(g.buf, ",AB"...), r%50, 10)
			g.buf = strconv.AppendInt(append(g.buf, ",\""...), r, 10)
			g.buf = strconv.AppendInt(append(g.buf, " High Street, Town\",AB1 2CD,S"...), r%7, 10)
			g.buf = append(g.buf, "\r\n"...)
		default:
			g.buf = append(g.buf, g.tail...)
			g.done = true
		}
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	k := copy(p, g.buf)
	g.buf = g.buf[:copy(g.buf, g.buf[k:])]
	g.read += int64(k)
	return k, nil
}

func (g *genReader) Close() error { return nil }

// genSize measures the generated size.
func genSize(n int, tail string) int64 {
	g := &genReader{n: n, tail: tail}
	m, _ := io.Copy(io.Discard, g)
	return m
}

// TestCheckFileStreams checks a large generated file (about 64 MB) and
// asserts that it is read once, chunk by chunk, with allocations far below
// its size; and that a late non-UTF-8 byte costs exactly one more read.
func TestCheckFileStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("large generated file")
	}
	const rows = 1_500_000
	for _, tc := range []struct {
		name, tail, enc string
		opens           int
	}{
		{"utf-8", "", "utf-8", 1},
		{"windows-1252 byte at the end", "1,AB,Caf\xe9,AB1 2CD,S1\r\n", "windows-1252", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size := genSize(rows, tc.tail)
			var gens []*genReader
			open := func(context.Context) (io.ReadCloser, error) {
				g := &genReader{n: rows, tail: tc.tail}
				gens = append(gens, g)
				return g, nil
			}
			c := mustChecks(t, []CheckSpec{{Check: "size", Max: ptr[int64](1 << 40)}, {Check: "encoding"}, {Check: "delimiter"},
				{Check: "columns"}, {Check: "rows"}, {Check: "profile"}})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			rep, err := CheckFile(context.Background(), open, size, "big.csv", c)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			want := rows + 1
			if tc.tail != "" {
				want++
			}
			if !rep.Valid || rep.Rows == nil || *rep.Rows != want || rep.Encoding != tc.enc {
				t.Fatalf("report = %+v (rows %v); want valid, %d rows, %s", rep, deref(rep.Rows), want, tc.enc)
			}
			if len(gens) != tc.opens {
				t.Errorf("opened %d times; want %d", len(gens), tc.opens)
			}
			for i, g := range gens {
				if g.read != size {
					t.Errorf("pass %d read %d bytes; want the whole file once (%d)", i+1, g.read, size)
				}
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d MB checked in %d pass(es); allocated %d KB in total; %d Read calls", size>>20, len(gens), alloc>>10, gens[0].calls)
			if alloc > 4<<20 {
				t.Errorf("allocated %d bytes for a %d-byte file: not streaming", alloc, size)
			}
		})
	}
}

// BenchmarkCheckFile measures the checks' throughput on a generated file
// of about 64 MB (b.SetBytes: MB/s in the output).
func BenchmarkCheckFile(b *testing.B) {
	const rows = 1_500_000
	size := genSize(rows, "")
	c := mustChecks(b, []CheckSpec{{Check: "size", Max: ptr[int64](1 << 40)}, {Check: "encoding"}, {Check: "delimiter"},
		{Check: "columns"}, {Check: "rows"}, {Check: "profile"}})
	open := func(context.Context) (io.ReadCloser, error) { return &genReader{n: rows}, nil }
	b.SetBytes(size)
	for b.Loop() {
		if _, err := CheckFile(context.Background(), open, size, "big.csv", c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckFileInMemory is BenchmarkCheckFile without the generator's
// cost: the same bytes, read from memory.
func BenchmarkCheckFileInMemory(b *testing.B) {
	data, _ := io.ReadAll(&genReader{n: 1_500_000})
	c := mustChecks(b, []CheckSpec{{Check: "size", Max: ptr[int64](1 << 40)}, {Check: "encoding"}, {Check: "delimiter"},
		{Check: "columns"}, {Check: "rows"}, {Check: "profile"}})
	open := func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := CheckFile(context.Background(), open, int64(len(data)), "big.csv", c); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCheckLocalFileFromEnv checks the file named by GHSYNC_INBOX_CHECK_FILE
// (for measuring time and peak RSS on a real file with /usr/bin/time -v;
// skipped when unset).
func TestCheckLocalFileFromEnv(t *testing.T) {
	f := os.Getenv("GHSYNC_INBOX_CHECK_FILE")
	if f == "" {
		t.Skip("GHSYNC_INBOX_CHECK_FILE not set (a measuring aid, not a check)")
	}
	c := mustChecks(t, []CheckSpec{{Check: "size", Max: ptr[int64](1 << 40)}, {Check: "encoding"}, {Check: "delimiter"},
		{Check: "columns"}, {Check: "rows"}, {Check: "profile"}})
	start := time.Now()
	rep, err := CheckLocalFile(context.Background(), f, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %+v rows %v in %v", f, rep, deref(rep.Rows), time.Since(start))
}

func ptr[T any](v T) *T { return &v }
