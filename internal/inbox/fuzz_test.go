package inbox

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func FuzzKeyPattern(f *testing.F) {
	f.Add("{group}/{date}/{timestamp}/{file}", "E1/2026/t/a.csv")
	f.Add("in/{gss}/{file}", "in/E1/x")
	f.Add("{a}/{file}", "report.json")
	f.Fuzz(func(t *testing.T, pattern, key string) {
		p, err := ParseKeyPattern(pattern)
		if err != nil {
			return
		}
		segs, prefix, ok := p.Match(key)
		if !ok {
			return
		}
		if !strings.HasPrefix(key, prefix) || prefix+segs["file"] != key {
			t.Fatalf("Match(%q) with %q: prefix %q + file %q != key", key, pattern, prefix, segs["file"])
		}
		if _, pre2, ok := p.SetOf(prefix); !ok || pre2 != prefix {
			t.Fatalf("SetOf(%q) = %q, %v; want the same prefix", prefix, pre2, ok)
		}
	})
}

func FuzzSniffDelimiter(f *testing.F) {
	f.Add("a,b,c\n1,2,3\n")
	f.Add("a\tb\n\"x\"\t'y'\n")
	f.Add("\"a\", \"b\"\n")
	f.Fuzz(func(t *testing.T, sample string) {
		d, ok := SniffDelimiter([]rune(sample), []rune{',', '\t'})
		if ok != (d != 0) || (ok && d != ',' && d != '\t') {
			t.Fatalf("SniffDelimiter(%q) = %q, %v", sample, d, ok)
		}
	})
}

// FuzzRowChecker checks a body whole and one byte at a time (every chunk
// boundary, multi-byte characters split): the reports must be identical.
func FuzzRowChecker(f *testing.F) {
	f.Add([]byte("a,b,c\r\n1,\"x\ny\",3\n\n1,2\n"), true)
	f.Add([]byte("h\tx\ty\n\xe9\t\x81\t\xc3\xa9\r"), false)
	f.Add([]byte("a,b,c\n\"unterminated,1,2"), true)
	f.Fuzz(func(t *testing.T, body []byte, tsv bool) {
		c, _ := CompileChecks([]CheckSpec{{Check: "encoding"}, {Check: "delimiter", SampleChars: 64}, {Check: "columns"}, {Check: "rows"}, {Check: "profile"}})
		name := "f.csv"
		if tsv {
			name = "f.tsv"
		}
		run := func(r func() io.Reader) FileReport {
			open := func(context.Context) (io.ReadCloser, error) { return io.NopCloser(r()), nil }
			rep, err := CheckFile(context.Background(), open, int64(len(body)), name, c)
			if err != nil {
				t.Fatal(err)
			}
			rep.Reads = 0
			return rep
		}
		whole := run(func() io.Reader { return bytes.NewReader(body) })
		bytewise := run(func() io.Reader { return iotest.OneByteReader(bytes.NewReader(body)) })
		if whole.Valid != bytewise.Valid || whole.Encoding != bytewise.Encoding || whole.Delimiter != bytewise.Delimiter ||
			whole.Profile != bytewise.Profile || !slices.Equal(whole.Errors, bytewise.Errors) ||
			(whole.Rows == nil) != (bytewise.Rows == nil) || (whole.Rows != nil && *whole.Rows != *bytewise.Rows) {
			t.Fatalf("whole %+v\nbytewise %+v", whole, bytewise)
		}
		if whole.Valid && len(whole.Errors) != 0 {
			t.Fatalf("valid with errors: %+v", whole)
		}
	})
}
