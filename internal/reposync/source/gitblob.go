package source

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
)

// NewBlobHasher returns a SHA-1 hash primed with the git blob header for
// content of size bytes ("blob <size>\x00"). Write exactly size bytes of
// content, then hex-encode Sum(nil) to get the blob SHA.
func NewBlobHasher(size int64) hash.Hash {
	h := sha1.New()
	h.Write([]byte("blob " + strconv.FormatInt(size, 10) + "\x00")) // hash writes never fail
	return h
}

// BlobSHABytes returns the git blob SHA-1 (lowercase hex) of b.
func BlobSHABytes(b []byte) string {
	h := NewBlobHasher(int64(len(b)))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// BlobSHA reads exactly size bytes from r and returns their git blob SHA-1
// in lowercase hex, as `git hash-object` would. It fails if r holds fewer or
// more than size bytes.
func BlobSHA(r io.Reader, size int64) (string, error) {
	return blobSHA(r, size, make([]byte, 32<<10))
}

// blobSHA is BlobSHA with a caller-owned buffer.
func blobSHA(r io.Reader, size int64, buf []byte) (string, error) {
	if size < 0 {
		return "", fmt.Errorf("blob sha: negative size %d", size)
	}
	h := NewBlobHasher(size)
	var n int64
	for {
		m, err := r.Read(buf)
		if m > 0 {
			n += int64(m)
			if n > size {
				return "", fmt.Errorf("blob sha: content is longer than %d bytes", size)
			}
			h.Write(buf[:m])
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("blob sha: %w", err)
		}
	}
	if n != size {
		return "", fmt.Errorf("blob sha: content is %d bytes, expected %d: %w", n, size, io.ErrUnexpectedEOF)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// verifyingReader passes content through while hashing it; at the end it
// fails instead of returning io.EOF if the content does not match the
// entry's size and blob SHA (the file changed since it was listed), so a
// consumer that uploads the stream sees a read error, not bad data.
type verifyingReader struct {
	r    io.Reader
	e    Entry
	h    hash.Hash
	n    int64
	done bool
}

func newVerifyingReader(r io.Reader, e Entry) *verifyingReader {
	return &verifyingReader{r: r, e: e, h: NewBlobHasher(e.Size)}
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.done {
		return 0, io.EOF
	}
	n, err := v.r.Read(p)
	if n > 0 {
		v.n += int64(n)
		v.h.Write(p[:n])
		if v.n > v.e.Size {
			return n, fmt.Errorf("%s: content grew beyond the listed %d bytes since it was listed", v.e.Path, v.e.Size)
		}
	}
	if errors.Is(err, io.EOF) {
		if v.n != v.e.Size {
			return n, fmt.Errorf("%s: content is %d bytes, listed as %d (changed since it was listed)", v.e.Path, v.n, v.e.Size)
		}
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.e.BlobSHA {
			return n, fmt.Errorf("%s: content has blob sha %s, listed as %s (changed since it was listed)", v.e.Path, got, v.e.BlobSHA)
		}
		v.done = true
		return n, io.EOF
	}
	if err != nil {
		return n, fmt.Errorf("read %s: %w", v.e.Path, err)
	}
	return n, nil
}
