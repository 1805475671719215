package source

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Blob identifies an entry's content: a git blob SHA-1 held as its 20 raw
// bytes, or a GitHub release asset (its ID and size), or nothing (the zero
// value). It is a fixed-size value without pointers, so a listing of a
// million entries holds no separate string per entry (issue 20); two Blobs
// are equal (==) exactly when their String forms are.
type Blob struct {
	kind blobKind
	b    [20]byte
}

// blobKind tags what Blob.b holds.
type blobKind uint8

const (
	blobNone  blobKind = iota // zero value: no content identity
	blobSHA1                  // b is a git blob SHA-1
	blobAsset                 // b[0:8] the asset ID, b[8:16] its size (big-endian int64)
)

// assetPrefix starts the string form of a release asset's Blob.
const assetPrefix = "asset-"

// BlobFromSum returns the Blob of a git blob SHA-1 sum.
func BlobFromSum(sum [20]byte) Blob { return Blob{kind: blobSHA1, b: sum} }

// AssetBlob returns the Blob of GitHub release asset id of size bytes; its
// String is "asset-ID-SIZE" in decimal.
func AssetBlob(id, size int64) Blob {
	b := Blob{kind: blobAsset}
	binary.BigEndian.PutUint64(b.b[0:8], uint64(id))
	binary.BigEndian.PutUint64(b.b[8:16], uint64(size))
	return b
}

// Equal reports whether b and o are the same Blob (as b == o does); it
// lets go-cmp compare Entries.
func (b Blob) Equal(o Blob) bool { return b == o }

// IsZero reports whether b is the zero Blob (no content identity).
func (b Blob) IsZero() bool { return b.kind == blobNone }

// IsSHA1 reports whether b is a git blob SHA-1.
func (b Blob) IsSHA1() bool { return b.kind == blobSHA1 }

// IsAsset reports whether b is a GitHub release asset.
func (b Blob) IsAsset() bool { return b.kind == blobAsset }

// Sum returns the git blob SHA-1 and true, or false when b is not one.
func (b Blob) Sum() ([20]byte, bool) { return b.b, b.kind == blobSHA1 }

// Asset returns the release asset's ID and size and true, or false when b
// is not an asset.
func (b Blob) Asset() (id, size int64, ok bool) {
	if b.kind != blobAsset {
		return 0, 0, false
	}
	return int64(binary.BigEndian.Uint64(b.b[0:8])), int64(binary.BigEndian.Uint64(b.b[8:16])), true
}

// String returns the form manifests and object metadata store: 40
// lowercase hex digits for a SHA-1, "asset-ID-SIZE" for a release asset,
// "" for the zero Blob.
func (b Blob) String() string {
	var buf [64]byte
	return string(b.appendTo(buf[:0]))
}

// AppendTo appends b's String form to dst.
func (b Blob) AppendTo(dst []byte) []byte { return b.appendTo(dst) }

func (b Blob) appendTo(dst []byte) []byte {
	switch b.kind {
	case blobSHA1:
		return hex.AppendEncode(dst, b.b[:])
	case blobAsset:
		id, size, _ := b.Asset()
		dst = append(dst, assetPrefix...)
		dst = strconv.AppendInt(dst, id, 10)
		dst = append(dst, '-')
		return strconv.AppendInt(dst, size, 10)
	}
	return dst
}

// Is reports whether s is b's String form, without allocating. A string
// that is not exactly that form (upper-case hex, another asset, garbage)
// is not b; so a manifest record whose blob cannot be parsed matches no
// entry.
func (b Blob) Is(s string) bool {
	switch b.kind {
	case blobSHA1:
		if len(s) != 2*len(b.b) {
			return false
		}
		const digits = "0123456789abcdef"
		for i, c := range b.b {
			if s[2*i] != digits[c>>4] || s[2*i+1] != digits[c&0x0f] {
				return false
			}
		}
		return true
	case blobAsset:
		var buf [64]byte
		return string(b.appendTo(buf[:0])) == s // compared in place, not allocated
	}
	return s == ""
}

// ParseBlob parses the String form of a Blob: "" (the zero Blob), 40
// lowercase hex digits, or "asset-ID-SIZE" with ID and SIZE in canonical
// decimal (no sign but a leading '-', no leading zeros). Only those exact
// forms are accepted, so ParseBlob(s).String() == s whenever it succeeds.
func ParseBlob(s string) (Blob, error) {
	switch {
	case s == "":
		return Blob{}, nil
	case len(s) == 40 && !strings.HasPrefix(s, assetPrefix):
		var b Blob
		if err := decodeLowerHex(b.b[:], s); err != nil {
			return Blob{}, fmt.Errorf("blob %q: not a git blob SHA-1 (40 lowercase hex digits): %w", s, err)
		}
		b.kind = blobSHA1
		return b, nil
	case strings.HasPrefix(s, assetPrefix):
		rest := s[len(assetPrefix):]
		// The ID may be negative, so the separator is the first '-' after
		// its first character.
		i := -1
		if len(rest) > 1 {
			if j := strings.IndexByte(rest[1:], '-'); j >= 0 {
				i = j + 1
			}
		}
		if i < 0 {
			return Blob{}, fmt.Errorf("blob %q: a release asset blob is asset-ID-SIZE", s)
		}
		id, err1 := strconv.ParseInt(rest[:i], 10, 64)
		size, err2 := strconv.ParseInt(rest[i+1:], 10, 64)
		if err1 != nil || err2 != nil {
			return Blob{}, fmt.Errorf("blob %q: a release asset blob is asset-ID-SIZE in decimal", s)
		}
		b := AssetBlob(id, size)
		if !b.Is(s) {
			return Blob{}, fmt.Errorf("blob %q: not in canonical form (want %q)", s, b.String())
		}
		return b, nil
	}
	return Blob{}, fmt.Errorf("blob %q: neither a git blob SHA-1 (40 lowercase hex digits) nor asset-ID-SIZE", s)
}

// decodeLowerHex decodes s, lowercase hex of exactly len(dst) bytes, into dst.
func decodeLowerHex(dst []byte, s string) error {
	if len(s) != 2*len(dst) {
		return fmt.Errorf("%d characters, want %d", len(s), 2*len(dst))
	}
	for i := range dst {
		hi, ok1 := lowerHexValue(s[2*i])
		lo, ok2 := lowerHexValue(s[2*i+1])
		if !ok1 || !ok2 {
			return fmt.Errorf("invalid character at offset %d", 2*i)
		}
		dst[i] = hi<<4 | lo
	}
	return nil
}

func lowerHexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
