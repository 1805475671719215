package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"path"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzLimits = Limits{MaxEntries: 64, MaxEntrySize: 1 << 16, MaxTotalSize: 1 << 18}

// seedMembers are valid and malicious archives used to seed both fuzzers.
func seedMembers() [][]member {
	return [][]member{
		{{name: "w/", typ: tar.TypeDir}, {name: "w/a.txt", body: "hello"}, {name: "w/bin/x", body: "#!", mode: 0o755},
			{name: "w/l", typ: tar.TypeSymlink, link: "a.txt"}, {name: "w/h", typ: tar.TypeLink, link: "w/a.txt"}},
		{{name: "../evil", body: "x"}},
		{{name: "/abs", body: "x"}},
		{{name: `a\..\b`, body: "x"}},
		{{name: "a\xffb", body: "x"}},
		{{name: "w/l", typ: tar.TypeSymlink, link: "../../../etc/passwd"}},
		{{name: "w/l", typ: tar.TypeSymlink, link: "/etc/passwd"}},
		{{name: "p", typ: tar.TypeFifo}},
		{{name: "big", body: strings.Repeat("z", 1<<17)}},
	}
}

// checkStream drains r and asserts the reader's guarantees.
func checkStream(t *testing.T, r *Reader) {
	var entries int
	var total int64
	for {
		e, rd, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			var ue *UnsafeEntryError
			_ = errors.As(err, &ue) // any error is fine; refusals must not panic
			return
		}
		entries++
		if entries > fuzzLimits.MaxEntries {
			t.Fatalf("%d entries returned, limit %d", entries, fuzzLimits.MaxEntries)
		}
		p := e.Path
		if p == "" || p == "." || path.Clean(p) != p || strings.HasPrefix(p, "/") || escapes(p) ||
			strings.Contains("/"+p+"/", "/../") || strings.ContainsAny(p, "\\\x00") || !utf8.ValidString(p) {
			t.Fatalf("unsafe path %q returned", p)
		}
		if e.Kind == KindSymlink {
			if reason := checkSymlink(p, e.LinkTarget); reason != "" {
				t.Fatalf("symlink %q -> %q returned: %s", p, e.LinkTarget, reason)
			}
		}
		if e.Kind == KindHardlink && (escapes(e.LinkTarget) || strings.HasPrefix(e.LinkTarget, "/")) {
			t.Fatalf("hard link %q -> %q returned", p, e.LinkTarget)
		}
		n, err := io.Copy(io.Discard, rd)
		if n > e.Size || n > fuzzLimits.MaxEntrySize {
			t.Fatalf("entry %q: read %d bytes, size %d", p, n, e.Size)
		}
		total += n
		if total > fuzzLimits.MaxTotalSize {
			t.Fatalf("read %d bytes in total, limit %d", total, fuzzLimits.MaxTotalSize)
		}
		if err != nil {
			return
		}
	}
}

func FuzzTarReader(f *testing.F) {
	for _, ms := range seedMembers() {
		raw := buildTar(f, "0123456789abcdef0123456789abcdef01234567", ms)
		f.Add(raw)
		f.Add(gz(f, raw))
	}
	f.Add(append(rawTarHeader("a/", '0', 1), make([]byte, 1536)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, strip := range []bool{false, true} {
			opts := Options{Limits: fuzzLimits, StripWrapper: strip}
			if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
				r, err := NewTarGz(bytes.NewReader(data), opts)
				if err == nil {
					checkStream(t, r)
				}
				continue
			}
			checkStream(t, NewTar(bytes.NewReader(data), opts))
		}
	})
}

func FuzzZipReader(f *testing.F) {
	for _, ms := range seedMembers() {
		f.Add(buildZip(f, "cafe", ms))
	}
	f.Add(buildZip(f, "", []member{{name: "a\x00b", body: "x"}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, strip := range []bool{false, true} {
			r, err := NewZip(bytes.NewReader(data), int64(len(data)), Options{Limits: fuzzLimits, StripWrapper: strip})
			if err == nil {
				checkStream(t, r)
			}
		}
	})
}
