package store

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// The extended attribute xattrName holds an object's attributes in one of
// two encodings, told apart by the first byte:
//
//   - '{': JSON (fileAttrs), as written before compact attributes;
//     still read, never written.
//   - attrsCompact (1): a version byte, then records, each a tag byte and
//     uvarint-length-prefixed strings: 't' content type, 'c' cache control,
//     'e' content encoding, 'm' a metadata key and value, 'h' a metadata key
//     and a value that is lowercase hex of even length, stored as its bytes,
//     and 'b' the value of blobKey in that hex form, stored as its bytes
//     without the key.
//
// The compact form exists for ext4 (and file systems like it): an inode of
// 256 bytes (mkfs.ext4's default) keeps up to 60 bytes of one attribute of
// this name inside the inode; anything longer takes a 4 KiB block of its
// own per file. A small file written by repo sync carries a content type and
// its git blob SHA: 101 bytes of JSON took a block (the folder used twice
// the disk space of its content and each write allocated that block), 50
// bytes of the compact form stay in the inode.
const attrsCompact = 1

// blobKey is the metadata key repo sync records each object's git blob SHA
// under (reposync.MetaBlob): the one key the compact form stores without
// its name.
const blobKey = "ghsync-blob"

// encodeAttrs returns the compact encoding of a (records in a fixed order:
// equal attributes give equal bytes).
func encodeAttrs(a fileAttrs) []byte {
	b := make([]byte, 1, 64)
	b[0] = attrsCompact
	str := func(tag byte, s string) {
		if s != "" {
			b = append(b, tag)
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	str('t', a.ContentType)
	str('c', a.CacheControl)
	str('e', a.ContentEncoding)
	for _, k := range slices.Sorted(maps.Keys(a.Metadata)) {
		v := a.Metadata[k]
		raw, isHex := lowerHex(v)
		switch {
		case isHex && k == blobKey:
			b = append(b, 'b')
			b = binary.AppendUvarint(b, uint64(len(raw)))
			b = append(b, raw...)
		case isHex:
			str('h', k)
			b = binary.AppendUvarint(b, uint64(len(raw)))
			b = append(b, raw...)
		default:
			b = append(b, 'm')
			b = binary.AppendUvarint(b, uint64(len(k)))
			b = append(b, k...)
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		}
	}
	return b
}

// lowerHex returns the bytes of s when s is non-empty lowercase hex of even
// length (so that hex.EncodeToString gives s back).
func lowerHex(s string) ([]byte, bool) {
	if s == "" || len(s)%2 != 0 {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return nil, false
		}
	}
	raw, err := hex.DecodeString(s)
	return raw, err == nil
}

// errAttrs is the error for an attribute record that is neither encoding.
var errAttrs = errors.New("malformed attribute record")

// decodeAttrs reads either encoding (see attrsCompact).
func decodeAttrs(data []byte) (fileAttrs, error) {
	var a fileAttrs
	if len(data) > 0 && data[0] == '{' {
		err := json.Unmarshal(data, &a)
		return a, err
	}
	if len(data) == 0 || data[0] != attrsCompact {
		return a, errAttrs
	}
	rest := data[1:]
	next := func() ([]byte, error) {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > uint64(len(rest)-w) {
			return nil, errAttrs
		}
		s := rest[w : w+int(n)]
		rest = rest[w+int(n):]
		return s, nil
	}
	for len(rest) > 0 {
		tag := rest[0]
		rest = rest[1:]
		s, err := next()
		if err != nil {
			return fileAttrs{}, err
		}
		switch tag {
		case 't':
			a.ContentType = string(s)
		case 'c':
			a.CacheControl = string(s)
		case 'e':
			a.ContentEncoding = string(s)
		case 'b':
			a.setMeta(blobKey, hex.EncodeToString(s))
		case 'h', 'm':
			v, err := next()
			if err != nil {
				return fileAttrs{}, err
			}
			if tag == 'h' {
				a.setMeta(string(s), hex.EncodeToString(v))
			} else {
				a.setMeta(string(s), string(v))
			}
		default:
			return fileAttrs{}, fmt.Errorf("%w: unknown tag %q", errAttrs, tag)
		}
	}
	return a, nil
}

func (a *fileAttrs) setMeta(k, v string) {
	if a.Metadata == nil {
		a.Metadata = map[string]string{}
	}
	a.Metadata[k] = v
}
