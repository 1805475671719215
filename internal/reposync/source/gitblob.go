package source

import (
	"crypto/sha1"
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

// BlobOf returns the git blob SHA-1 of b.
func BlobOf(b []byte) Blob {
	h := NewBlobHasher(int64(len(b)))
	h.Write(b)
	var sum [20]byte
	h.Sum(sum[:0])
	return BlobFromSum(sum)
}

// BlobSHABytes returns the git blob SHA-1 of b in lowercase hex (the
// String of BlobOf(b)).
func BlobSHABytes(b []byte) string { return BlobOf(b).String() }

// HashBlob reads exactly size bytes from r and returns their git blob
// SHA-1, as `git hash-object` would. It fails if r holds fewer or more
// than size bytes.
func HashBlob(r io.Reader, size int64) (Blob, error) {
	return newBlobHasher(32<<10).hash(r, size)
}

// blobHasher hashes contents one after another with one SHA-1 state and
// one set of buffers, so hashing a file allocates nothing (a listing
// hashes a million of them). It is not safe for concurrent use.
type blobHasher struct {
	h       hash.Hash
	buf     []byte // read buffer
	scratch []byte // the header, then the sum
}

func newBlobHasher(bufSize int) *blobHasher {
	return &blobHasher{h: sha1.New(), buf: make([]byte, bufSize), scratch: make([]byte, 0, 32)}
}

// hash is HashBlob with bh's state and buffers.
func (bh *blobHasher) hash(r io.Reader, size int64) (Blob, error) {
	if size < 0 {
		return Blob{}, fmt.Errorf("blob sha: negative size %d", size)
	}
	h := bh.h
	h.Reset()
	hdr := append(bh.scratch[:0], "blob "...)
	hdr = strconv.AppendInt(hdr, size, 10)
	h.Write(append(hdr, 0)) // hash writes never fail
	var n int64
	for {
		m, err := r.Read(bh.buf)
		if m > 0 {
			n += int64(m)
			if n > size {
				return Blob{}, fmt.Errorf("blob sha: content is longer than %d bytes", size)
			}
			h.Write(bh.buf[:m])
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Blob{}, fmt.Errorf("blob sha: %w", err)
		}
	}
	if n != size {
		return Blob{}, fmt.Errorf("blob sha: content is %d bytes, expected %d: %w", n, size, io.ErrUnexpectedEOF)
	}
	var sum [20]byte
	copy(sum[:], h.Sum(bh.scratch[:0]))
	return BlobFromSum(sum), nil
}

// ErrContentMismatch is matched (errors.Is) by read errors of a Verify
// reader: the content did not have the entry's size or blob SHA.
var ErrContentMismatch = errors.New("content does not match the listing")

// Verify returns a reader of r's content that checks it against e while it
// is read: a read that takes the content past e.Size fails at once, and at
// the end, instead of io.EOF, the reader fails unless exactly e.Size bytes
// came and, when e.Blob is a git blob SHA-1 (release assets have
// none), their blob SHA-1 is e.Blob. The errors match
// ErrContentMismatch. A read error of r is passed on, wrapped with the path.
// So a consumer that stores the stream (store.Bucket.Put) sees an error,
// never a short or wrong body taken for the whole one. When r already
// verifies e (a source that checks its own reads), r itself is returned.
func Verify(r io.Reader, e Entry) io.Reader {
	if v, ok := r.(*verifyingReader); ok && v.e == e {
		return v
	}
	return newVerifyingReader(r, e)
}

// verifyingReader implements Verify.
type verifyingReader struct {
	r    io.Reader
	e    Entry
	h    hash.Hash // nil when e has no git blob SHA
	n    int64
	done bool
}

func newVerifyingReader(r io.Reader, e Entry) *verifyingReader {
	v := &verifyingReader{r: r, e: e}
	if e.Blob.IsSHA1() {
		v.h = NewBlobHasher(e.Size)
	}
	return v
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.done {
		return 0, io.EOF
	}
	n, err := v.r.Read(p)
	if n > 0 {
		v.n += int64(n)
		if v.h != nil {
			v.h.Write(p[:n])
		}
		if v.n > v.e.Size {
			return n, fmt.Errorf("%s: %w: content goes on past the listed %d bytes (changed since it was listed)", v.e.Path, ErrContentMismatch, v.e.Size)
		}
	}
	if errors.Is(err, io.EOF) {
		if v.n != v.e.Size {
			return n, fmt.Errorf("%s: %w: content is %d bytes, listed as %d (the read was cut short, or the content changed since it was listed)", v.e.Path, ErrContentMismatch, v.n, v.e.Size)
		}
		if v.h != nil {
			var sum [20]byte
			if got := BlobFromSum([20]byte(v.h.Sum(sum[:0]))); got != v.e.Blob {
				return n, fmt.Errorf("%s: %w: content has blob sha %s, listed as %s (corrupted in transit, or changed since it was listed)", v.e.Path, ErrContentMismatch, got, v.e.Blob)
			}
		}
		v.done = true
		return n, io.EOF
	}
	if err != nil {
		return n, fmt.Errorf("read %s: %w", v.e.Path, err)
	}
	return n, nil
}
