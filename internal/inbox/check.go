package inbox

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// FileReport is the result of the checks on one file.
type FileReport struct {
	// Key is the object key (relative to the watch prefix) or the file name.
	Key   string `json:"key"`
	Valid bool   `json:"valid"`
	// Rows counts records including the header; nil when the rows were not
	// counted (a check stopped before them), as the original's null.
	Rows *int `json:"rows"`
	// Encoding is the encoding that decoded the file, "" when none did or
	// the check did not run.
	Encoding string `json:"encoding"`
	// Delimiter is the delimiter used to parse, "" when parsing did not run.
	Delimiter string `json:"delimiter"`
	// Profile is the profile the header matched (default "unknown").
	Profile string   `json:"profile"`
	Errors  []string `json:"errors"`
	Size    int64    `json:"size"`
	// ETag is the store's ETag of the checked object ("" for local files).
	ETag string `json:"etag,omitempty"`
	// Reads is how many times the content was opened (1, or 2 after an
	// encoding fallback).
	Reads int `json:"-"`
	// suppressEmail is set by a set rule: the only error is the expected
	// "file 1 of N" one.
	suppressEmail bool
}

// Opener opens a file's content from its first byte. CheckFile calls it
// once, or twice when the encoding found differs from the first tried.
type Opener func(ctx context.Context) (io.ReadCloser, error)

// chunkSize is the read size; the checks hold about this much of a file.
const chunkSize = 64 << 10

// Messages of the checks (the original's, exactly).
const (
	msgEmpty        = "File is empty"
	msgDecode       = "Failed to decode body using any expected encoding"
	msgParse        = "Failed to parse body"
	msgColumnsFmt   = "File has only %d columns. We might have failed to detect the delimiter"
	msgIncompleteFm = "Incomplete file: Expected %d columns on row %d found %d"
	msgRequiredFmt  = "Missing required column %q"
)

func sizeWord(n int64, under bool) string {
	switch {
	case under && n%1_000_000 == 0:
		return fmt.Sprintf("%dMB", n/1_000_000)
	case !under && n%1024 == 0 && n > 0:
		return fmt.Sprintf("%dKB", n/1024)
	}
	return fmt.Sprintf("%d bytes", n)
}

// CheckLocalFile runs checks on a local file (ghsync inbox check).
func CheckLocalFile(ctx context.Context, file string, c *Checks) (FileReport, error) {
	st, err := os.Stat(file)
	if err != nil {
		return FileReport{Key: file}, fmt.Errorf("check %s: %w", file, err)
	}
	if st.IsDir() {
		return FileReport{Key: file}, fmt.Errorf("check %s: is a directory", file)
	}
	open := func(context.Context) (io.ReadCloser, error) { return os.Open(file) }
	return CheckFile(ctx, open, st.Size(), file, c)
}

// CheckFile runs the file checks of c on the content open returns. size is
// the content length in bytes, or -1 when unknown (then counted while
// reading). name is the key or file name (its extension decides the
// delimiter when sniffing cannot). The file is streamed in 64 KiB chunks and
// never held whole; it is read once, or twice when the first encoding tried
// turns out invalid somewhere in the file. The error is for failures to read
// (the checks' own findings are in the report).
func CheckFile(ctx context.Context, open Opener, size int64, name string, c *Checks) (FileReport, error) {
	rep := FileReport{Key: name, Profile: c.UnknownProfile(), Errors: []string{}, Size: size}
	if c.size && size >= 0 {
		// The original reported 0 rows (not null) when the size check stopped.
		zero := 0
		switch {
		case size < c.min:
			rep.Errors, rep.Rows = append(rep.Errors, "Expected file to be at least "+sizeWord(c.min, false)), &zero
			return rep, nil
		case size > c.max:
			rep.Errors, rep.Rows = append(rep.Errors, "Expected file to be under "+sizeWord(c.max, true)), &zero
			return rep, nil
		}
	}
	if !c.encoding {
		if size == 0 {
			rep.Errors = append(rep.Errors, msgEmpty)
		}
		rep.Valid = len(rep.Errors) == 0
		return rep, nil
	}
	p := &pass{c: c, name: name, rep: &rep}
	first := c.encodings[0]
	res, err := p.run(ctx, open, first, c.encodings)
	if err != nil {
		return rep, err
	}
	switch {
	case res.empty:
		rep.Errors = append(rep.Errors, msgEmpty)
	case res.tooBig:
		zero := 0
		rep.Errors, rep.Rows = append(rep.Errors, "Expected file to be under "+sizeWord(c.max, true)), &zero
	case res.encoding == first:
		p.apply(first)
	case res.encoding == "":
		rep.Errors = append(rep.Errors, msgDecode)
	default:
		p2 := &pass{c: c, name: name, rep: &rep}
		if _, err := p2.run(ctx, open, res.encoding, []string{res.encoding}); err != nil {
			return rep, err
		}
		p2.apply(res.encoding)
	}
	if rep.Size < 0 {
		rep.Size = res.bytes
	}
	rep.Valid = len(rep.Errors) == 0
	return rep, nil
}

// pass is one read of the file: decode with one encoding, sniff, scan
// records; plus validity tracking of the other candidate encodings.
type pass struct {
	c    *Checks
	name string
	rep  *FileReport

	sample   []rune
	sniffed  bool
	scan     *csvScanner
	delim    rune
	errs     []string
	rows     int
	hdrCols  int
	counted  bool // rows counted to the end or to an incomplete row
	profile  string
	finished bool // the checks need no more characters
}

type passResult struct {
	encoding string // the first candidate valid through the end, "" if none
	empty    bool
	tooBig   bool
	bytes    int64
}

func (p *pass) run(ctx context.Context, open Opener, enc string, cands []string) (passResult, error) {
	var res passResult
	p.rep.Reads++
	rc, err := open(ctx)
	if err != nil {
		return res, fmt.Errorf("open %s: %w", p.name, err)
	}
	defer rc.Close()
	decs := make([]*decoder, len(cands))
	var main *decoder
	for i, e := range cands {
		decs[i] = newDecoder(e)
		if e == enc && main == nil {
			main = decs[i]
		}
	}
	buf := make([]byte, chunkSize)
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		n, rerr := rc.Read(buf)
		if n > 0 {
			res.bytes += int64(n)
			if p.c.size && res.bytes > p.c.max {
				res.tooBig = true
				return res, nil
			}
			chunk := buf[:n]
			for _, d := range decs {
				if d == main && !p.finished {
					if d.decode(chunk, p) || !d.valid {
						p.finished = true
					}
				} else {
					d.decode(chunk, nil)
				}
			}
			if p.decided(decs) {
				break
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return res, fmt.Errorf("read %s: %w", p.name, rerr)
		}
	}
	if res.bytes == 0 {
		res.empty = true
		return res, nil
	}
	for _, d := range decs {
		if d.end() {
			res.encoding = d.enc
			break
		}
	}
	if res.encoding == enc && !p.finished {
		p.endOfInput()
	}
	return res, nil
}

// decided reports whether reading further cannot change the outcome: the
// checks are finished and the first still-valid candidate is always valid.
func (p *pass) decided(decs []*decoder) bool {
	if !p.finished {
		return false
	}
	for _, d := range decs {
		if d.valid {
			return d.alwaysValid()
		}
	}
	return true // none valid
}

// ascii receives a run of ASCII characters; false means no more are needed.
func (p *pass) ascii(run []byte) bool {
	for !p.sniffed && len(run) > 0 {
		if !p.char(rune(run[0])) {
			return false
		}
		run = run[1:]
	}
	if len(run) == 0 {
		return true
	}
	return p.scan.feedASCII(run)
}

// char receives each decoded character; false means no more are needed.
func (p *pass) char(r rune) bool {
	if !p.sniffed {
		p.sample = append(p.sample, r)
		if len(p.sample) < p.c.sampleChars {
			return true
		}
		return p.startScan()
	}
	return p.scan.feed(r)
}

// startScan decides the delimiter from the sample and replays it.
func (p *pass) startScan() bool {
	p.sniffed = true
	d, ok := rune(0), false
	if p.c.delimiter {
		d, ok = SniffDelimiter(p.sample, p.c.delims)
	}
	if !ok {
		d = ','
		if strings.EqualFold(path.Ext(p.name), ".tsv") {
			d = '\t'
		}
	}
	p.delim = d
	p.scan = newCSVScanner(d, p.record)
	sample := p.sample
	p.sample = nil
	for _, r := range sample {
		if !p.scan.feed(r) {
			return false
		}
	}
	return true
}

func (p *pass) endOfInput() {
	if !p.sniffed {
		p.startScan()
	}
	if p.scan != nil {
		p.scan.finish()
	}
}

// record receives each record; false stops the scan.
func (p *pass) record(fields int, header []string) bool {
	if header != nil {
		p.hdrCols = fields
		p.rows = 1
		if p.c.columns {
			if fields < p.c.minColumns {
				p.errs = append(p.errs, fmt.Sprintf(msgColumnsFmt, fields))
				return false
			}
			for _, want := range p.c.required {
				if !anyEqualFold(header, want) {
					p.errs = append(p.errs, fmt.Sprintf(msgRequiredFmt, want))
				}
			}
			if len(p.errs) > 0 {
				return false
			}
		}
		if p.c.profile {
			p.profile = matchProfile(header, p.c.profiles)
		}
		return p.c.rows
	}
	p.rows++
	if fields < p.hdrCols {
		p.errs = append(p.errs, fmt.Sprintf(msgIncompleteFm, p.hdrCols, p.rows, fields))
		p.counted = true
		return false
	}
	return true
}

// apply copies the pass's findings into the report.
func (p *pass) apply(enc string) {
	r := p.rep
	r.Encoding = enc
	if p.scan != nil {
		r.Delimiter = string(p.delim)
	}
	if p.scan != nil && p.scan.err != nil {
		r.Errors = append(r.Errors, msgParse)
		return
	}
	r.Errors = append(r.Errors, p.errs...)
	if p.profile != "" {
		r.Profile = p.profile
	}
	if p.c.rows && (len(p.errs) == 0 || p.counted) {
		n := p.rows
		r.Rows = &n
	}
}

func anyEqualFold(fields []string, want string) bool {
	for _, f := range fields {
		if strings.EqualFold(f, want) {
			return true
		}
	}
	return false
}

// matchProfile returns the first rule's name the header matches, or "".
// Matching lowercases both sides, as the original did (no trimming).
func matchProfile(header []string, rules []ProfileRule) string {
	for _, r := range rules {
		switch {
		case r.FirstColumn != "":
			if len(header) > 0 && strings.ToLower(header[0]) == strings.ToLower(r.FirstColumn) {
				return r.Name
			}
		case r.AnyColumn != "":
			for _, h := range header {
				if strings.ToLower(h) == strings.ToLower(r.AnyColumn) {
					return r.Name
				}
			}
		}
	}
	return ""
}
