package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"testing"
)

// member describes one archive member built by the tests.
type member struct {
	name string
	typ  byte // tar typeflag; for zip only Reg, Dir, Symlink, Fifo matter
	mode int64
	body string
	link string
	size int64 // if non-zero, overrides len(body) in the header
}

func buildTar(t testing.TB, comment string, ms []member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if comment != "" {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header",
			PAXRecords: map[string]string{"comment": comment}}); err != nil {
			t.Fatalf("global header: %v", err)
		}
	}
	for _, m := range ms {
		h := &tar.Header{Name: m.name, Typeflag: m.typ, Mode: m.mode, Linkname: m.link, Size: int64(len(m.body))}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("header %q: %v", m.name, err)
		}
		if h.Size > 0 {
			if _, err := io.WriteString(tw, m.body); err != nil {
				t.Fatalf("body %q: %v", m.name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("close tar: %v", err)
	}
	return buf.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func buildZip(t testing.TB, comment string, ms []member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if comment != "" {
		if err := zw.SetComment(comment); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range ms {
		fh := &zip.FileHeader{Name: m.name, Method: zip.Deflate}
		mode := fs.FileMode(m.mode)
		if mode == 0 {
			mode = 0o644
		}
		body := m.body
		switch m.typ {
		case tar.TypeDir:
			mode |= fs.ModeDir
		case tar.TypeSymlink:
			mode |= fs.ModeSymlink
			body = m.link
		case tar.TypeFifo:
			mode |= fs.ModeNamedPipe
		}
		fh.SetMode(mode)
		w, err := zw.CreateHeader(fh)
		if err != nil {
			t.Fatalf("zip header %q: %v", m.name, err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type got struct {
	Entry
	Body string
}

// readAll drains r, returning the entries (with content) and the first
// error other than io.EOF.
func readAll(r *Reader) ([]got, error) {
	var out []got
	for {
		e, rd, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		b, err := io.ReadAll(rd)
		if err != nil {
			return out, err
		}
		out = append(out, got{e, string(b)})
	}
}

func asUnsafe(err error) *UnsafeEntryError {
	var ue *UnsafeEntryError
	if errors.As(err, &ue) {
		return ue
	}
	return nil
}
