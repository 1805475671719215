package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
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
