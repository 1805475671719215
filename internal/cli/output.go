package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/ghsync/ghsync/internal/jobs"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// printJSON writes v as one indented JSON object.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// emitJSON hands v, the command's --json object, to Main, which prints it
// once the command has returned: with a top-level "error" when it failed, so
// a summary printed by a failing run still says why (see jsonWithError).
func (a *app) emitJSON(v any) { a.jsonOut = v }

// jsonWithError returns v's JSON object with a top-level "error": msg (and
// "interrupted": true) when msg is set; v itself otherwise. A summary
// implementing jobs.ErrorSetter is told the error first; any other object
// gets the key added in front (replacing one it had); a value that is not
// an object is wrapped as {"error": …, "result": v}. With v nil the object
// is {"error": msg}.
func jsonWithError(v any, msg string, interrupted bool) any {
	if msg == "" && !interrupted {
		return v
	}
	if s, ok := v.(jobs.ErrorSetter); ok {
		s.SetError(msg)
	}
	head := []jsonField{{"error", msg}}
	if interrupted {
		head = append(head, jsonField{"interrupted", true})
	}
	if v == nil {
		return orderedObject(head)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return orderedObject(append(head, jsonField{"result_error", err.Error()}))
	}
	fields, ok := objectFields(raw)
	if !ok {
		return orderedObject(append(head, jsonField{"result", json.RawMessage(raw)}))
	}
	for _, f := range fields {
		if f.key != "error" && (f.key != "interrupted" || !interrupted) {
			head = append(head, f)
		}
	}
	return orderedObject(head)
}

// jsonField is one key of an orderedObject.
type jsonField struct {
	key string
	val any
}

// orderedObject is a JSON object whose keys keep their order.
type orderedObject []jsonField

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.val)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// objectFields splits a JSON object into its fields, in order; false when
// raw is not an object.
func objectFields(raw []byte) ([]jsonField, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []jsonField
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, false
		}
		out = append(out, jsonField{key, val})
	}
	return out, true
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

// stderrOwner is the one writer of stderr: log records and the terminal
// progress line both go through it, so a log line never lands after a
// half-drawn status ("…315.6 MBtime=… level=INFO"): the status line is
// cleared before each write and drawn again after it.
type stderrOwner struct {
	mu     sync.Mutex
	w      io.Writer
	status string // the status line on screen, "" when none
}

// Write writes p (whole lines: one log record) above the status line.
func (o *stderrOwner) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.status != "" {
		io.WriteString(o.w, "\r\033[K")
	}
	n, err := o.w.Write(p)
	if o.status != "" {
		io.WriteString(o.w, o.status)
	}
	return n, err
}

// setStatus replaces the status line ("" removes it).
func (o *stderrOwner) setStatus(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.status != "" || s != "" {
		io.WriteString(o.w, "\r\033[K"+s)
	}
	o.status = s
}

// progress renders "uploaded N/M objects, X MB, R MB/s, ETA D" as the
// terminal's status line, at most every 100 ms; it is a no-op when stderr
// is not a terminal, with --json, or with --quiet.
type progress struct {
	out   *stderrOwner
	on    bool
	mu    sync.Mutex
	start time.Time
	last  time.Time
}

func (p *progress) update(done, total int, bytes int64) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.start.IsZero() {
		p.start = now
	}
	if now.Sub(p.last) < 100*time.Millisecond && done != total {
		return
	}
	p.last = now
	p.out.setStatus(progressLine(done, total, bytes, now.Sub(p.start)))
}

// progressLine formats the status line; the rate and ETA are averages over
// elapsed, shown once there is something to average.
func progressLine(done, total int, bytes int64, elapsed time.Duration) string {
	line := fmt.Sprintf("uploaded %d/%d objects, %.1f MB", done, total, float64(bytes)/1e6)
	if secs := elapsed.Seconds(); secs >= 0.2 && done > 0 {
		line += fmt.Sprintf(", %.1f MB/s", float64(bytes)/1e6/secs)
		if done < total {
			eta := time.Duration(float64(total-done) / (float64(done) / secs) * float64(time.Second))
			line += ", ETA " + eta.Round(time.Second).String()
		}
	}
	return line
}

func (p *progress) finish() {
	if p.on {
		p.out.setStatus("")
	}
}
