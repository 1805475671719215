package classify

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// ClassifyFile classifies the log file at path, plain or gzip-compressed
// (detected by its magic bytes, whatever the file's name).
func (c *Classifier) ClassifyFile(path string) (*Match, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	m, err := c.ClassifyReader(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// FileResult is one line of `ghsync classify --json`: "match" is null when
// no rule matched.
type FileResult struct {
	File  string `json:"file"`
	Match *Match `json:"match"`
}

// WriteResult writes the result for one file: with asJSON one FileResult
// object on its own line, else a short human-readable block.
func WriteResult(w io.Writer, file string, m *Match, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(FileResult{File: file, Match: m})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	if m == nil {
		_, err := fmt.Fprintf(w, "%s: no rule matched\n", file)
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: %s\n  %s\n", file, m.LineNum, m.Rule, m.Line)
	if len(m.Captures) > 0 {
		fmt.Fprintf(&b, "  captures: %q\n", m.Captures)
	}
	for _, c := range m.Context {
		fmt.Fprintf(&b, "  context: %s\n", c)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
