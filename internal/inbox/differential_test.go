package inbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// genBody builds a random CSV-ish body from pieces chosen to hit the
// parser's and sniffer's edge cases (quotes, CR, LF, CRLF, other line
// boundaries, cp1252/latin-1 bytes, multi-byte UTF-8, short and long rows).
func genBody(r *rand.Rand) []byte {
	pieces := []string{"a", "bc", "houseid", "XOrdinate", "1", "22", " ", ",", ",", ",", "\t", "\t", "\"", "\"q\"",
		"\n", "\n", "\r\n", "\r", "\v", "\x1c", "\xe9", "\x85", "\x81", "é", "\u2028", "'", ";", "\"x,\ny\"", "\x00"}
	var b bytes.Buffer
	cols := 2 + r.IntN(4)
	delim := []string{",", "\t"}[r.IntN(2)]
	rows := 60 + r.IntN(200)
	noise := []int{0, 0, 400, 60, 6}[r.IntN(5)]
	short := []int{0, 0, 300, 15}[r.IntN(4)]
	ends := [][]string{{"\n"}, {"\r\n"}, {"\n", "\r\n", "\n", "\r"}}[r.IntN(3)]
	for i := 0; i < rows; i++ {
		n := cols
		if short > 0 && r.IntN(short) == 0 {
			n = r.IntN(cols + 2)
		}
		for j := 0; j < n; j++ {
			if j > 0 {
				b.WriteString(delim)
			}
			if noise > 0 && r.IntN(noise) == 0 {
				b.WriteString(pieces[r.IntN(len(pieces))])
			} else {
				fmt.Fprintf(&b, "v%d", r.IntN(1000))
			}
		}
		b.WriteString(ends[r.IntN(len(ends))])
	}
	return b.Bytes()
}

// TestDifferentialPython compares CheckFile with testdata/pycheck.py (the
// original's checks on Python's csv module) on generated bodies.
func TestDifferentialPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("SKIP: python3 not found; the differential test against Python's csv module did not run")
	}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	var files []string
	for i := 0; i < 400; i++ {
		name := filepath.Join(dir, fmt.Sprintf("f%03d.%s", i, []string{"csv", "tsv"}[i%2]))
		if err := os.WriteFile(name, genBody(r), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	fixtures, _ := filepath.Glob("testdata/files/*")
	if len(fixtures) == 0 {
		t.Fatal("no fixtures in testdata/files")
	}
	files = append(files, fixtures...)
	var goTime time.Duration
	pyStart := time.Now()
	out, err := exec.Command(py, append([]string{"testdata/pycheck.py"}, files...)...).Output()
	if err != nil {
		t.Fatalf("pycheck.py: %v", err)
	}
	t.Logf("python: %v", time.Since(pyStart))
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(files) {
		t.Fatalf("pycheck.py printed %d lines for %d files", len(lines), len(files))
	}
	c := mustChecks(t, nil)
	mismatches := 0
	kinds := map[string]int{}
	for i, f := range files {
		var want struct {
			Valid     bool     `json:"valid"`
			Rows      *int     `json:"rows"`
			Encoding  string   `json:"encoding"`
			Delimiter string   `json:"delimiter"`
			Profile   string   `json:"profile"`
			Errors    []string `json:"errors"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &want); err != nil {
			t.Fatal(err)
		}
		body, _ := os.ReadFile(f)
		start := time.Now()
		got := checkBytes(t, f, body, c)
		goTime += time.Since(start)
		k := got.Encoding + "/" + map[bool]string{true: "valid", false: "invalid"}[got.Valid] + "/" + got.Delimiter
		if len(got.Errors) > 0 {
			k += "/" + strings.Fields(got.Errors[0])[0]
		}
		kinds[k]++
		if got.Valid != want.Valid || fmt.Sprint(got.Rows) != fmt.Sprint(want.Rows) && !(got.Rows != nil && want.Rows != nil && *got.Rows == *want.Rows) ||
			got.Encoding != want.Encoding || got.Delimiter != want.Delimiter || got.Profile != want.Profile ||
			strings.Join(got.Errors, "|") != strings.Join(want.Errors, "|") {
			mismatches++
			if mismatches <= 5 {
				t.Errorf("%s: got %+v (rows %v)\nwant %s", filepath.Base(f), got, deref(got.Rows), lines[i])
			}
		}
	}
	t.Logf("go: %v", goTime)
	t.Logf("%d files compared with Python's csv module (%v), %d mismatches", len(files), kinds, mismatches)
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}
