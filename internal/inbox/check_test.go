package inbox

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pad makes a CSV body at least 1 KiB long by repeating row (the size check
// would stop shorter ones).
func pad(header, row string, n int) string {
	var b strings.Builder
	b.WriteString(header)
	for i := 0; i < n; i++ {
		b.WriteString(row)
	}
	return b.String()
}

func ip(n int) *int { return &n }

func mustChecks(t testing.TB, specs []CheckSpec) *Checks {
	t.Helper()
	c, errs := CompileChecks(specs)
	if len(errs) > 0 {
		t.Fatalf("compile checks: %v", errs)
	}
	return c
}

func checkBytes(t testing.TB, name string, body []byte, c *Checks) FileReport {
	t.Helper()
	open := func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	rep, err := CheckFile(context.Background(), open, int64(len(body)), name, c)
	if err != nil {
		t.Fatalf("CheckFile: %v", err)
	}
	return rep
}

func TestCheckFileOriginalAnswers(t *testing.T) {
	cp1252 := []byte(pad("houseid,name,street\r\n", "1,Caf\xe9 \x93Bob\x94,High St\r\n", 60))
	latin1 := []byte(pad("houseid,name,street\n", "1,Caf\xe9 \x81,High St\n", 60))
	tests := []struct {
		name, file string
		body       []byte
		want       FileReport
	}{
		{"tab file named .csv is tab", "a.csv", []byte(pad("houseid\tname\tstreet\n", "1\tBob\tHigh St\n", 80)),
			FileReport{Valid: true, Rows: ip(81), Encoding: "utf-8", Delimiter: "\t", Profile: "Idox Eros (Halarose)", Errors: []string{}}},
		{"comma file named .tsv is comma", "a.TSV", []byte(pad("authoritycode,name,street\n", "1,Bob,High St\n", 80)),
			FileReport{Valid: true, Rows: ip(81), Encoding: "utf-8", Delimiter: ",", Profile: "Xpress WebLookup", Errors: []string{}}},
		{"windows-1252", "w.csv", cp1252,
			FileReport{Valid: true, Rows: ip(61), Encoding: "windows-1252", Delimiter: ",", Profile: "Idox Eros (Halarose)", Errors: []string{}}},
		{"latin-1 when cp1252 refuses a byte", "l.csv", latin1,
			FileReport{Valid: true, Rows: ip(61), Encoding: "latin-1", Delimiter: ",", Profile: "Idox Eros (Halarose)", Errors: []string{}}},
		{"too small", "s.csv", []byte("a,b,c\n1,2,3\n"),
			FileReport{Rows: ip(0), Profile: "unknown", Errors: []string{"Expected file to be at least 1KB"}}},
		{"two columns", "two.csv", []byte(pad("a,b\n", "1,2\n", 300)),
			FileReport{Encoding: "utf-8", Delimiter: ",", Profile: "unknown", Errors: []string{"File has only 2 columns. We might have failed to detect the delimiter"}}},
		{"short row", "short.csv", []byte(pad("electiondate,b,c\n", "1,2,3\n", 200) + "1,2\n" + pad("", "1,2,3\n", 10)),
			FileReport{Rows: ip(202), Encoding: "utf-8", Delimiter: ",", Profile: "Xpress DC", Errors: []string{"Incomplete file: Expected 3 columns on row 202 found 2"}}},
		{"blank line has 0 fields", "blank.csv", []byte(pad("a,b,c\r\n", "1,2,3\r\n", 200) + "\r\n" + pad("", "1,2,3\r\n", 3)),
			FileReport{Rows: ip(202), Encoding: "utf-8", Delimiter: ",", Profile: "unknown", Errors: []string{"Incomplete file: Expected 3 columns on row 202 found 0"}}},
		{"long rows accepted", "long.csv", []byte(pad("a,b,c\n", "1,2,3,4,5\n", 200)),
			FileReport{Valid: true, Rows: ip(201), Encoding: "utf-8", Delimiter: ",", Profile: "unknown", Errors: []string{}}},
		{"quoted newlines and delimiters", "q.csv", []byte(pad("a,XOrdinate,c\n", "\"x,\ny\",\"2\"\"\",3\n", 200)),
			FileReport{Valid: true, Rows: ip(201), Encoding: "utf-8", Delimiter: ",", Profile: "Democracy Counts", Errors: []string{}}},
		{"binary", "b.csv", append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0, 1, 2, 0xff}, 400)...),
			FileReport{Encoding: "windows-1252", Delimiter: ",", Profile: "unknown", Errors: []string{"File has only 1 columns. We might have failed to detect the delimiter"}}},
		{"NUL is an ordinary character", "nul.csv", []byte(pad("a,b,c\n", "1,\x00,3\n", 200)),
			FileReport{Valid: true, Rows: ip(201), Encoding: "utf-8", Delimiter: ",", Profile: "unknown", Errors: []string{}}},
		{"field over Python's limit", "big.csv", []byte("a,b,c\n1,\"" + strings.Repeat("x", 131073) + "\",3\n"),
			FileReport{Encoding: "utf-8", Delimiter: ",", Profile: "unknown", Errors: []string{"Failed to parse body"}}},
		{"field at Python's limit", "limit.csv", []byte("a,b,c\n1," + strings.Repeat("x", 131072) + ",3\n"),
			FileReport{Valid: true, Rows: ip(2), Encoding: "utf-8", Delimiter: ",", Profile: "unknown", Errors: []string{}}},
		{"empty file: the size check answers", "e.csv", []byte{}, FileReport{Rows: ip(0), Profile: "unknown", Errors: []string{"Expected file to be at least 1KB"}}},
	}
	c := mustChecks(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkBytes(t, tt.file, tt.body, c)
			tt.want.Key = tt.file
			tt.want.Size = int64(len(tt.body))
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(FileReport{}), cmp.FilterPath(func(p cmp.Path) bool {
				return p.Last().String() == ".Reads"
			}, cmp.Ignore())); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSniffDelimiter(t *testing.T) {
	allowed := []rune{',', '\t'}
	tests := []struct {
		sample string
		want   rune
		ok     bool
	}{
		{"a\tb\tc\n1\t2\t3\n", '\t', true},
		{"a,b,c\n1,2,3\n", ',', true},
		{"a,b\tc\n1,2\t3\n", ',', true},       // both consistent: comma preferred
		{"\"a\"\t\"b\"\t\"c\"\n", '\t', true}, // quote pattern
		{"name\n\"x\"\n", 0, false},           // quotes without delimiter, no frequency winner
		{"abc\ndef\n", 0, false},              // nothing
	}
	for _, tt := range tests {
		got, ok := SniffDelimiter([]rune(tt.sample), allowed)
		if got != tt.want || ok != tt.ok {
			t.Errorf("SniffDelimiter(%q) = %q, %v; want %q, %v", tt.sample, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCheckFileEmptyWithoutSizeCheck(t *testing.T) {
	c := mustChecks(t, []CheckSpec{{Check: "encoding"}, {Check: "delimiter"}, {Check: "columns"}, {Check: "rows"}})
	got := checkBytes(t, "e.csv", nil, c)
	if got.Valid || len(got.Errors) != 1 || got.Errors[0] != "File is empty" {
		t.Errorf("empty file = %+v; want the single error File is empty", got)
	}
	got = checkBytes(t, "s.csv", []byte("a,b,c\n1,2,3\n"), c)
	if !got.Valid || got.Rows == nil || *got.Rows != 2 || got.Profile != "unknown" {
		t.Errorf("small file without size/profile checks = %+v; want valid, 2 rows, profile unknown", got)
	}
}

func TestSizeCheckZeroMin(t *testing.T) {
	c := mustChecks(t, []CheckSpec{{Check: "size", Min: ptr[int64](0), Max: ptr[int64](100)}, {Check: "encoding"}})
	if got := checkBytes(t, "e.csv", nil, c); len(got.Errors) != 1 || got.Errors[0] != "File is empty" {
		t.Errorf("empty with min 0 = %+v; want File is empty", got)
	}
	if got := checkBytes(t, "b.csv", make([]byte, 101), c); len(got.Errors) != 1 || got.Errors[0] != "Expected file to be under 100 bytes" {
		t.Errorf("101 bytes with max 100 = %+v", got)
	}
}

// TestHugeHeaderBoundedMemory: a header of millions of empty fields is
// counted, not kept.
func TestHugeHeaderBoundedMemory(t *testing.T) {
	body := []byte(strings.Repeat(",", 5_000_000) + "\n" + strings.Repeat(",", 5_000_000) + "\n")
	c := mustChecks(t, nil)
	got := checkBytes(t, "h.csv", body, c)
	if !got.Valid || got.Rows == nil || *got.Rows != 2 {
		t.Errorf("huge header = %+v", got)
	}
}
