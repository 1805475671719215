package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// printJSON writes v as one indented JSON object.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// tableErrorWidth is how much of an error a table cell shows; --json
// output carries the full text.
const tableErrorWidth = 60

// clip returns s's first line cut to at most n characters (runes), ending
// in "…" when it was cut: for error messages in table cells.
func clip(s string, n int) string {
	s, _, cut := strings.Cut(s, "\n")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	if cut {
		return s + " …"
	}
	return s
}

// progress renders "uploaded N/M (X MB)" on one terminal line, at most
// every 100 ms; it is a no-op when stderr is not a terminal.
type progress struct {
	w    io.Writer
	on   bool
	mu   sync.Mutex
	last time.Time
	used bool
}

func (p *progress) update(done, total int, bytes int64) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 100*time.Millisecond && done != total {
		return
	}
	p.last, p.used = time.Now(), true
	fmt.Fprintf(p.w, "\r\033[Kuploaded %d/%d objects, %.1f MB", done, total, float64(bytes)/1e6)
}

func (p *progress) finish() {
	if p.used {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
