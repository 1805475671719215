package source

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestBlobSHAKnownValues(t *testing.T) {
	cases := []struct{ content, want string }{
		{"", "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"},        // git hash-object /dev/null
		{"hello\n", "ce013625030ba8dba906f756967f9e9ca394464a"}, // echo hello | git hash-object --stdin
	}
	for _, c := range cases {
		got, err := HashBlob(strings.NewReader(c.content), int64(len(c.content)))
		if err != nil || got.String() != c.want {
			t.Errorf("HashBlob(%q) = %q, %v; want %q", c.content, got, err, c.want)
		}
		if got := BlobSHABytes([]byte(c.content)); got != c.want {
			t.Errorf("BlobSHABytes(%q) = %q, want %q", c.content, got, c.want)
		}
	}
	// Streaming in tiny reads gives the same answer.
	big := bytes.Repeat([]byte("0123456789"), 100_000)
	a, err := HashBlob(iotest.OneByteReader(bytes.NewReader(big[:5000])), 5000)
	if err != nil || a != BlobOf(big[:5000]) {
		t.Errorf("one-byte reads: %q, %v", a, err)
	}
}

func TestBlobSHASizeMismatch(t *testing.T) {
	if _, err := HashBlob(strings.NewReader("abc"), 4); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short content: err = %v, want ErrUnexpectedEOF", err)
	}
	if _, err := HashBlob(strings.NewReader("abcde"), 4); err == nil {
		t.Error("long content: no error")
	}
	if _, err := HashBlob(iotest.ErrReader(errors.New("disk on fire")), 4); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("read error: %v", err)
	}
}

func TestVerifyingReader(t *testing.T) {
	e := Entry{Path: "f", Size: 6, Blob: mustParseBlob("ce013625030ba8dba906f756967f9e9ca394464a")}
	if b, err := io.ReadAll(newVerifyingReader(strings.NewReader("hello\n"), e)); err != nil || string(b) != "hello\n" {
		t.Errorf("matching content: %q, %v", b, err)
	}
	for _, bad := range []string{"hellO\n", "hello", "hello\n!"} {
		if _, err := io.ReadAll(newVerifyingReader(strings.NewReader(bad), e)); err == nil || !strings.Contains(err.Error(), "f:") {
			t.Errorf("content %q: err = %v, want an error naming the path", bad, err)
		}
	}
}
