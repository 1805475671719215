package archive

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strings"
)

// NewZip returns a Reader over a zip archive of size bytes. Entries are
// returned in central-directory order. The zip comment (GitHub puts the
// commit SHA there) is available from Comment at once.
func NewZip(r io.ReaderAt, size int64, opts Options) (*Reader, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		return nil, fmt.Errorf("open zip: %w", err)
	}
	rd := newReader(&zipBackend{files: zr.File}, opts)
	rd.comment = zr.Comment
	if n := len(zr.File); n > rd.lim.MaxEntries {
		return nil, unsafe(zr.File[rd.lim.MaxEntries].Name, "archive has %d entries, more than %d", n, rd.lim.MaxEntries)
	}
	return rd, nil
}

type zipBackend struct {
	files []*zip.File
	i     int
	rc    io.ReadCloser
}

func (z *zipBackend) closeCurrent() {
	if z.rc != nil {
		_ = z.rc.Close() // read-only; nothing to flush
		z.rc = nil
	}
}

func (z *zipBackend) next() (header, error) {
	z.closeCurrent()
	if z.i >= len(z.files) {
		return header{}, io.EOF
	}
	f := z.files[z.i]
	z.i++
	m := f.Mode()
	h := header{name: f.Name, size: -1, open: func() (io.Reader, error) {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		z.rc = rc
		return rc, nil
	}}
	if f.UncompressedSize64 <= math.MaxInt64 {
		h.size = int64(f.UncompressedSize64)
	}
	switch {
	case m&fs.ModeSymlink != 0:
		h.typ = hdrSymlink
		target, reason, err := readLinkTarget(f)
		if err != nil {
			return header{}, fmt.Errorf("archive entry %q: read link target: %w", f.Name, err)
		}
		h.linkname, h.refuse = target, reason
	case m.IsDir() || strings.HasSuffix(f.Name, "/"):
		h.typ = hdrDir
	case m&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeIrregular) != 0:
		h.typ = hdrOther
		h.refuse = "device, fifo and socket entries are not allowed"
	default:
		h.typ = hdrFile
		h.exec = m&0o111 != 0
	}
	return h, nil
}

// readLinkTarget reads a zip symlink's content (its target), bounded.
func readLinkTarget(f *zip.File) (string, string, error) {
	if f.UncompressedSize64 > maxLinkTarget {
		return "", fmt.Sprintf("symlink target longer than %d bytes", maxLinkTarget), nil
	}
	rc, err := f.Open()
	if err != nil {
		return "", "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxLinkTarget+1))
	if err != nil {
		return "", "", err
	}
	if len(b) > maxLinkTarget {
		return "", fmt.Sprintf("symlink target longer than %d bytes", maxLinkTarget), nil
	}
	return string(b), "", nil
}
