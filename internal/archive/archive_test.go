package archive

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTarGzWithWrapper(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	data := gz(t, buildTar(t, sha, []member{
		{name: "acme-site-0123456/", typ: tar.TypeDir, mode: 0o755},
		{name: "acme-site-0123456/README.md", body: "hello\n"},
		{name: "acme-site-0123456/bin/", typ: tar.TypeDir, mode: 0o755},
		{name: "acme-site-0123456/bin/run", body: "#!/bin/sh\n", mode: 0o755},
		{name: "acme-site-0123456/docs/link", typ: tar.TypeSymlink, link: "../README.md"},
		{name: "acme-site-0123456/./docs//empty", body: ""},
		{name: "acme-site-0123456/hard", typ: tar.TypeLink, link: "acme-site-0123456/README.md"},
	}))
	r, err := NewTarGz(bytes.NewReader(data), Options{StripWrapper: true})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := readAll(r)
	if err != nil {
		t.Fatal(err)
	}
	want := []got{
		{Entry{Path: "README.md", Kind: KindFile, Size: 6}, "hello\n"},
		{Entry{Path: "bin", Kind: KindDir}, ""},
		{Entry{Path: "bin/run", Kind: KindExec, Size: 10}, "#!/bin/sh\n"},
		{Entry{Path: "docs/link", Kind: KindSymlink, Size: 12, LinkTarget: "../README.md"}, "../README.md"},
		{Entry{Path: "docs/empty", Kind: KindFile}, ""},
		{Entry{Path: "hard", Kind: KindHardlink, LinkTarget: "README.md"}, ""},
	}
	if d := cmp.Diff(want, entries); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
	if r.Comment() != sha {
		t.Errorf("Comment() = %q, want %q", r.Comment(), sha)
	}
}

func TestTarWithoutStrip(t *testing.T) {
	data := buildTar(t, "", []member{
		{name: "./", typ: tar.TypeDir},
		{name: "./a.txt", body: "a"},
		{name: "top/b.txt", body: "bb"},
	})
	entries, err := readAll(NewTar(bytes.NewReader(data), Options{}))
	if err != nil {
		t.Fatal(err)
	}
	want := []got{
		{Entry{Path: "a.txt", Kind: KindFile, Size: 1}, "a"},
		{Entry{Path: "top/b.txt", Kind: KindFile, Size: 2}, "bb"},
	}
	if d := cmp.Diff(want, entries); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
}

func TestZip(t *testing.T) {
	data := buildZip(t, "cafebabe", []member{
		{name: "repo-main/", typ: tar.TypeDir, mode: 0o755},
		{name: "repo-main/a.txt", body: strings.Repeat("a", 1000)},
		{name: "repo-main/tool", body: "x", mode: 0o755},
		{name: "repo-main/sub/l", typ: tar.TypeSymlink, link: "../a.txt"},
	})
	r, err := NewZip(bytes.NewReader(data), int64(len(data)), Options{StripWrapper: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Comment() != "cafebabe" {
		t.Errorf("Comment() = %q", r.Comment())
	}
	entries, err := readAll(r)
	if err != nil {
		t.Fatal(err)
	}
	want := []got{
		{Entry{Path: "a.txt", Kind: KindFile, Size: 1000}, strings.Repeat("a", 1000)},
		{Entry{Path: "tool", Kind: KindExec, Size: 1}, "x"},
		{Entry{Path: "sub/l", Kind: KindSymlink, Size: 8, LinkTarget: "../a.txt"}, "../a.txt"},
	}
	if d := cmp.Diff(want, entries); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
}

// TestRefusals runs every refusal through both the tar and the zip reader
// where the format can express it.
func TestRefusals(t *testing.T) {
	small := Limits{MaxEntries: 3, MaxEntrySize: 10, MaxTotalSize: 15}
	cases := []struct {
		name    string
		ms      []member
		lim     Limits
		strip   bool
		noZip   bool // zip cannot express it
		noTar   bool // Go's tar writer cannot express it
		entry   string
		wantErr string
	}{
		{name: "dotdot", ms: []member{{name: "../x", body: "x"}}, entry: "../x", wantErr: "path escapes the tree"},
		{name: "inner dotdot", ms: []member{{name: "a/../../x", body: "x"}}, entry: "a/../../x", wantErr: "path escapes the tree"},
		{name: "dotdot that stays inside", ms: []member{{name: "a/../b", body: "x"}}, entry: "a/../b", wantErr: "path escapes the tree"},
		{name: "absolute", ms: []member{{name: "/etc/passwd", body: "x"}}, entry: "/etc/passwd", wantErr: "absolute path"},
		{name: "drive letter", ms: []member{{name: "C:/x", body: "x"}}, entry: "C:/x", wantErr: "absolute path"},
		{name: "backslash", ms: []member{{name: `..\..\x`, body: "x"}}, entry: `..\..\x`, wantErr: "backslash"},
		{name: "nul", ms: []member{{name: "a\x00b", body: "x"}}, noTar: true, entry: "a\x00b", wantErr: "NUL"},
		{name: "invalid utf8", ms: []member{{name: "a\xffb", body: "x"}}, entry: "a\xffb", wantErr: "UTF-8"},
		{name: "symlink escapes", ms: []member{{name: "d/l", typ: tar.TypeSymlink, link: "../../etc"}}, entry: "d/l", wantErr: "link target escapes the tree"},
		{name: "symlink absolute", ms: []member{{name: "l", typ: tar.TypeSymlink, link: "/etc/passwd"}}, entry: "l", wantErr: "link target is absolute"},
		{name: "symlink backslash", ms: []member{{name: "l", typ: tar.TypeSymlink, link: `..\x`}}, entry: "l", wantErr: "backslash"},
		{name: "hardlink escapes", ms: []member{{name: "l", typ: tar.TypeLink, link: "../x"}}, noZip: true, entry: "l", wantErr: "path escapes the tree"},
		{name: "hardlink outside wrapper", strip: true, ms: []member{{name: "w/", typ: tar.TypeDir}, {name: "w/l", typ: tar.TypeLink, link: "other/x"}}, noZip: true, entry: "w/l", wantErr: "link target escapes the tree"},
		{name: "fifo", ms: []member{{name: "p", typ: tar.TypeFifo}}, entry: "p", wantErr: "not allowed"},
		{name: "char device", ms: []member{{name: "tty", typ: tar.TypeChar}}, noZip: true, entry: "tty", wantErr: "character device"},
		{name: "block device", ms: []member{{name: "sda", typ: tar.TypeBlock}}, noZip: true, entry: "sda", wantErr: "block device"},
		{name: "too many entries", lim: small, ms: []member{{name: "a"}, {name: "b"}, {name: "c"}, {name: "d"}}, entry: "d", wantErr: "more than 3"},
		{name: "entry too big", lim: small, ms: []member{{name: "big", body: strings.Repeat("x", 11)}}, entry: "big", wantErr: "exceeds the limit of 10"},
		{name: "total too big", lim: small, ms: []member{{name: "a", body: "0123456789"}, {name: "b", body: "0123456789"}}, entry: "b", wantErr: "total limit of 15"},
		{name: "outside wrapper", strip: true, ms: []member{{name: "w/a", body: "x"}, {name: "v/b", body: "x"}}, entry: "v/b", wantErr: `outside the wrapper folder "w"`},
		{name: "file at top with strip", strip: true, ms: []member{{name: "README", body: "x"}}, entry: "README", wantErr: "not inside a wrapper folder"},
	}
	for _, tc := range cases {
		for _, format := range []string{"tar", "zip"} {
			if (format == "zip" && tc.noZip) || (format == "tar" && tc.noTar) {
				continue
			}
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				opts := Options{Limits: tc.lim, StripWrapper: tc.strip}
				var r *Reader
				if format == "tar" {
					r = NewTar(bytes.NewReader(buildTar(t, "", tc.ms)), opts)
				} else {
					data := buildZip(t, "", tc.ms)
					var err error
					r, err = NewZip(bytes.NewReader(data), int64(len(data)), opts)
					if err != nil {
						checkRefusal(t, err, tc.entry, tc.wantErr)
						return
					}
				}
				_, err := readAll(r)
				checkRefusal(t, err, tc.entry, tc.wantErr)
				// The error is sticky.
				if _, _, err2 := r.Next(); err2 == nil || err2.Error() != err.Error() {
					t.Errorf("Next after error = %v, want the same error", err2)
				}
			})
		}
	}
}

func checkRefusal(t *testing.T, err error, entry, reason string) {
	t.Helper()
	ue := asUnsafe(err)
	if ue == nil {
		t.Fatalf("err = %v, want *UnsafeEntryError", err)
	}
	if ue.Entry != entry {
		t.Errorf("Entry = %q, want %q", ue.Entry, entry)
	}
	if !strings.Contains(ue.Reason, reason) {
		t.Errorf("Reason = %q, want it to contain %q", ue.Reason, reason)
	}
	if !strings.Contains(err.Error(), "archive entry ") {
		t.Errorf("message %q does not name the entry", err.Error())
	}
}

func TestErrorMessage(t *testing.T) {
	err := &UnsafeEntryError{Entry: "../x", Reason: "path escapes the tree"}
	if got, want := err.Error(), `archive entry "../x": path escapes the tree`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestReaderInvalidAfterNext(t *testing.T) {
	data := buildTar(t, "", []member{{name: "a", body: "aaaa"}, {name: "b", body: "b"}})
	r := NewTar(bytes.NewReader(data), Options{})
	_, first, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Read(make([]byte, 1)); err == nil {
		t.Error("reading a previous entry's content after Next succeeded")
	}
}

func TestTruncatedGzip(t *testing.T) {
	data := gz(t, buildTar(t, "", []member{{name: "a", body: strings.Repeat("z", 5000)}}))
	r, err := NewTarGz(bytes.NewReader(data[:len(data)-6]), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(r); err == nil {
		t.Error("truncated gzip stream read without error")
	}
}
