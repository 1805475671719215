package archive

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// NewTarGz returns a Reader over a gzip-compressed tar stream. Nothing is
// buffered beyond the decompressor's window and nothing is written to disk.
// The decompressed stream is bounded by the total size limit (plus a header
// allowance per entry). At the end the gzip trailer is read and verified.
func NewTarGz(r io.Reader, opts Options) (*Reader, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("open gzip stream: %w", err)
	}
	rd := newTarReader(zr, opts)
	raw := rd.b.(*tarBackend).raw
	rd.finish = func() error {
		if _, err := io.Copy(io.Discard, raw); err != nil {
			return err
		}
		return zr.Close()
	}
	return rd, nil
}

// NewTar returns a Reader over an uncompressed tar stream.
func NewTar(r io.Reader, opts Options) *Reader {
	return newTarReader(r, opts)
}

func newTarReader(r io.Reader, opts Options) *Reader {
	rd := newReader(nil, opts)
	raw := &countingReader{r: r, limit: rawLimit(rd.lim), name: func() string {
		if rd.last == "" {
			return "(archive start)"
		}
		return rd.last
	}}
	rd.b = &tarBackend{tr: tar.NewReader(raw), raw: raw}
	return rd
}

type tarBackend struct {
	tr  *tar.Reader
	raw *countingReader
}

func (t *tarBackend) next() (header, error) {
	h, err := t.tr.Next()
	if err != nil && !(errors.Is(err, tar.ErrInsecurePath) && h != nil) {
		return header{}, err // io.EOF passes through unwrapped
	}
	out := header{
		name:     h.Name,
		size:     h.Size,
		linkname: h.Linkname,
		exec:     h.Mode&0o111 != 0,
		open:     func() (io.Reader, error) { return t.tr, nil },
	}
	switch h.Typeflag {
	case tar.TypeReg, '\x00', tar.TypeCont, tar.TypeGNUSparse:
		out.typ = hdrFile
	case tar.TypeDir:
		out.typ = hdrDir
	case tar.TypeSymlink:
		out.typ = hdrSymlink
	case tar.TypeLink:
		out.typ = hdrHardlink
	case tar.TypeXGlobalHeader:
		out.typ = hdrGlobal
		out.comment = h.PAXRecords["comment"]
	case tar.TypeChar:
		out.refuse = "character device entries are not allowed"
	case tar.TypeBlock:
		out.refuse = "block device entries are not allowed"
	case tar.TypeFifo:
		out.refuse = "fifo entries are not allowed"
	default:
		out.typ = hdrOther
		out.refuse = fmt.Sprintf("unsupported entry type %q", h.Typeflag)
	}
	return out, nil
}
