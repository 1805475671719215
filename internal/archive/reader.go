package archive

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// hdrType is a backend's classification of a raw archive member.
type hdrType int

const (
	hdrFile hdrType = iota
	hdrDir
	hdrSymlink
	hdrHardlink
	hdrGlobal // pax global header: consumed, never returned
	hdrOther  // device, fifo, socket, unknown: refused
)

// header is a raw member as a backend sees it, before any validation.
type header struct {
	name     string
	typ      hdrType
	exec     bool
	size     int64
	linkname string
	comment  string // pax global header comment
	refuse   string // a reason the backend already found to refuse it
	open     func() (io.Reader, error)
}

// backend yields raw members; next returns io.EOF at the end.
type backend interface {
	next() (header, error)
}

// Reader yields the validated entries of one archive. It is not safe for
// concurrent use.
type Reader struct {
	b       backend
	lim     Limits
	strip   bool
	wrapper string // set by the first entry when strip is on
	hasWrap bool
	entries int
	total   int64
	comment string
	last    string // raw name of the last member seen, for error messages
	cur     *entryReader
	err     error // sticky error
	finish  func() error
}

func newReader(b backend, opts Options) *Reader {
	return &Reader{b: b, lim: opts.Limits.withDefaults(), strip: opts.StripWrapper}
}

// Comment returns the archive comment: the pax global header "comment"
// record of a tar (GitHub puts the commit SHA there) or the zip comment. For
// a tar it is known once Next has read past the global header.
func (r *Reader) Comment() string { return r.comment }

// Next returns the next entry and a reader of its content, valid until the
// next call. The content reader enforces the entry's declared size and the
// limits. Next returns io.EOF after the last entry and *UnsafeEntryError
// (possibly wrapped) for a refused entry; after any error it keeps
// returning that error.
func (r *Reader) Next() (Entry, io.Reader, error) {
	if r.err != nil {
		return Entry{}, nil, r.err
	}
	e, rd, err := r.next()
	if err != nil {
		r.err = err
		return Entry{}, nil, err
	}
	return e, rd, nil
}

func (r *Reader) next() (Entry, io.Reader, error) {
	if r.cur != nil {
		r.cur.stale = true
		r.cur = nil
	}
	for {
		h, err := r.b.next()
		if err == io.EOF {
			if r.finish != nil {
				if err := r.finish(); err != nil {
					return Entry{}, nil, fmt.Errorf("read archive trailer: %w", err)
				}
			}
			return Entry{}, nil, io.EOF
		}
		if err != nil {
			var ue *UnsafeEntryError
			if errors.As(err, &ue) {
				return Entry{}, nil, err
			}
			return Entry{}, nil, fmt.Errorf("read archive after entry %q: %w", r.last, err)
		}
		r.last = h.name
		r.entries++
		if r.entries > r.lim.MaxEntries {
			return Entry{}, nil, unsafe(h.name, "archive has more than %d entries", r.lim.MaxEntries)
		}
		if h.typ == hdrGlobal {
			if h.comment != "" {
				r.comment = h.comment
			}
			continue
		}
		e, rd, skip, err := r.entry(h)
		if err != nil {
			return Entry{}, nil, err
		}
		if !skip {
			return e, rd, nil
		}
	}
}

// entry validates one member. skip is true for members that are not
// returned (the root and the wrapper folder).
func (r *Reader) entry(h header) (Entry, io.Reader, bool, error) {
	if h.refuse != "" {
		return Entry{}, nil, false, unsafe(h.name, "%s", h.refuse)
	}
	clean, isDir, reason := cleanName(h.name)
	if reason != "" {
		return Entry{}, nil, false, unsafe(h.name, "%s", reason)
	}
	if h.typ == hdrOther {
		return Entry{}, nil, false, unsafe(h.name, "unsupported entry type")
	}
	if isDir && h.typ != hdrDir {
		return Entry{}, nil, false, unsafe(h.name, "non-directory name ends with a slash")
	}
	if clean == "." {
		if h.typ == hdrDir {
			return Entry{}, nil, true, nil
		}
		return Entry{}, nil, false, unsafe(h.name, "empty path")
	}
	p, reason := r.stripWrapper(clean, h.typ == hdrDir)
	if reason != "" {
		return Entry{}, nil, false, unsafe(h.name, "%s", reason)
	}
	if p == "" {
		return Entry{}, nil, true, nil // the wrapper folder itself
	}
	switch h.typ {
	case hdrDir:
		return Entry{Path: p, Kind: KindDir}, eofReader{}, false, nil
	case hdrHardlink:
		t, reason := r.hardlinkTarget(h.linkname)
		if reason != "" {
			return Entry{}, nil, false, unsafe(h.name, "%s", reason)
		}
		return Entry{Path: p, Kind: KindHardlink, LinkTarget: t}, eofReader{}, false, nil
	case hdrSymlink:
		if reason := checkSymlink(p, h.linkname); reason != "" {
			return Entry{}, nil, false, unsafe(h.name, "%s", reason)
		}
		size := int64(len(h.linkname))
		if err := r.reserve(h.name, size); err != nil {
			return Entry{}, nil, false, err
		}
		e := Entry{Path: p, Kind: KindSymlink, Size: size, LinkTarget: h.linkname}
		return e, strings.NewReader(h.linkname), false, nil
	}
	if err := r.reserve(h.name, h.size); err != nil {
		return Entry{}, nil, false, err
	}
	kind := KindFile
	if h.exec {
		kind = KindExec
	}
	src, err := h.open()
	if err != nil {
		return Entry{}, nil, false, fmt.Errorf("archive entry %q: open: %w", h.name, err)
	}
	r.cur = &entryReader{r: src, name: h.name, remaining: h.size}
	return Entry{Path: p, Kind: kind, Size: h.size}, r.cur, false, nil
}

// reserve checks a declared content size against the limits and counts it.
func (r *Reader) reserve(name string, size int64) error {
	switch {
	case size < 0:
		return unsafe(name, "invalid size %d", size)
	case size > r.lim.MaxEntrySize:
		return unsafe(name, "entry size %d exceeds the limit of %d bytes", size, r.lim.MaxEntrySize)
	case size > r.lim.MaxTotalSize-r.total:
		return unsafe(name, "archive content exceeds the total limit of %d bytes", r.lim.MaxTotalSize)
	}
	r.total += size
	return nil
}

// stripWrapper removes the wrapper folder from clean when stripping is on.
// It returns "" for the wrapper folder itself.
func (r *Reader) stripWrapper(clean string, isDir bool) (string, string) {
	if !r.strip {
		return clean, ""
	}
	first, rest, nested := strings.Cut(clean, "/")
	if !r.hasWrap {
		r.wrapper, r.hasWrap = first, true
	}
	if first != r.wrapper {
		return "", fmt.Sprintf("outside the wrapper folder %q", r.wrapper)
	}
	if !nested {
		if isDir {
			return "", ""
		}
		return "", "not inside a wrapper folder"
	}
	return rest, ""
}

// hardlinkTarget validates a hard link's target (an archive path) and
// returns it as a tree path.
func (r *Reader) hardlinkTarget(link string) (string, string) {
	clean, _, reason := cleanName(link)
	if reason != "" {
		return "", "link target: " + reason
	}
	if clean == "." {
		return "", "hard link to the root"
	}
	if !r.strip {
		return clean, ""
	}
	first, rest, nested := strings.Cut(clean, "/")
	if first != r.wrapper || !nested {
		return "", "link target escapes the tree"
	}
	return rest, ""
}

// entryReader bounds one entry's content to its declared size.
type entryReader struct {
	r         io.Reader
	name      string
	remaining int64
	stale     bool
}

func (e *entryReader) Read(p []byte) (int, error) {
	if e.stale {
		return 0, fmt.Errorf("archive entry %q: content read after Next", e.name)
	}
	if e.remaining <= 0 {
		// The declared size is used up: the source must be at its end.
		var one [1]byte
		n, err := io.ReadFull(e.r, one[:])
		if n > 0 {
			return 0, unsafe(e.name, "content is larger than its declared size")
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return 0, io.EOF
		}
		return 0, fmt.Errorf("archive entry %q: %w", e.name, err)
	}
	if int64(len(p)) > e.remaining {
		p = p[:e.remaining]
	}
	n, err := e.r.Read(p)
	e.remaining -= int64(n)
	if err == io.EOF && e.remaining > 0 {
		return n, fmt.Errorf("archive entry %q: %w", e.name, io.ErrUnexpectedEOF)
	}
	if err != nil && err != io.EOF {
		return n, fmt.Errorf("archive entry %q: %w", e.name, err)
	}
	return n, err
}

// rawLimit bounds the decompressed byte stream of a tar: the content limit
// plus an allowance for headers and padding per permitted entry.
func rawLimit(l Limits) int64 {
	const perEntry, fixed = 8 << 10, 4 << 20
	overhead := int64(l.MaxEntries+16) * perEntry
	if l.MaxTotalSize > math.MaxInt64-overhead-fixed {
		return math.MaxInt64
	}
	return l.MaxTotalSize + overhead + fixed
}

// countingReader fails once more than limit bytes have been read.
type countingReader struct {
	r     io.Reader
	n     int64
	limit int64
	name  func() string
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.limit {
		return 0, unsafe(c.name(), "decompressed archive exceeds %d bytes", c.limit)
	}
	if int64(len(p)) > c.limit-c.n {
		p = p[:c.limit-c.n]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
