package reposync

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
)

// etagTable records, by slot, the ETag each item of an apply got, in 17
// bytes a slot for the forms stores give: a string per object (16 bytes
// of header and a 24 to 48 byte allocation) was ~65 MB at a million S3
// uploads. ETags of these forms are kept as their value:
//
//   - `"` + 32 lower-case hex digits + `"` (an MD5: S3, MinIO, VersityGW);
//   - `"` + hex int64 + `-` + hex int64 + `"` as strconv.FormatInt writes
//     them (file:// and mem://: modification time and size);
//   - `"0x` + upper-case hex uint64 without leading zeros + `"` (Azure);
//   - any ETag of at most 16 bytes (the empty one, GCS generations), as is.
//
// Any other (multipart `"…-N"`, weak, unquoted or upper-case MD5s) is kept
// whole in a side map. get returns exactly the string set was given.
// A slot never set is not recorded (has is false). The table is not safe
// for concurrent use.
type etagTable struct {
	recs  []etagRec
	other map[int32]string // the ETags of form etagOther, by slot
}

// etagRec is one slot's ETag: its form and value.
type etagRec struct {
	v    [16]byte
	form etagForm
}

type etagForm uint8

const (
	etagNone  etagForm = iota // nothing recorded
	etagMD5                   // v is the digest
	etagSynth                 // v is the two int64s, big-endian
	etagAzure                 // v[:8] is the number, big-endian
	etagOther                 // the ETag is in other
	etagShort                 // etagShort+n: the ETag is v[:n]
)

// newETagTable returns a table of n slots, none recorded.
func newETagTable(n int) etagTable { return etagTable{recs: make([]etagRec, n)} }

// len is the number of slots.
func (t *etagTable) len() int { return len(t.recs) }

// has reports whether slot has an ETag recorded.
func (t *etagTable) has(slot int) bool { return t.recs[slot].form != etagNone }

// count is the number of slots with an ETag recorded.
func (t *etagTable) count() int {
	n := 0
	for i := range t.recs {
		if t.recs[i].form != etagNone {
			n++
		}
	}
	return n
}

// set records etag for slot, replacing what it had.
func (t *etagTable) set(slot int, etag string) {
	r := &t.recs[slot]
	if r.form == etagOther {
		delete(t.other, int32(slot))
	}
	switch {
	case len(etag) <= len(r.v):
		r.v = [16]byte{}
		copy(r.v[:], etag)
		r.form = etagShort + etagForm(len(etag))
	case encodeMD5ETag(etag, &r.v):
		r.form = etagMD5
	case encodeSynthETag(etag, &r.v):
		r.form = etagSynth
	case encodeAzureETag(etag, &r.v):
		r.form = etagAzure
	default:
		if t.other == nil {
			t.other = map[int32]string{}
		}
		t.other[int32(slot)] = etag
		r.form = etagOther
	}
}

// get returns the ETag recorded for slot ("" when none).
func (t *etagTable) get(slot int) string {
	r := &t.recs[slot]
	switch {
	case r.form == etagNone:
		return ""
	case r.form == etagOther:
		return t.other[int32(slot)]
	case r.form >= etagShort:
		return string(r.v[:r.form-etagShort])
	}
	var buf [48]byte
	return string(appendETag(buf[:0], r))
}

// appendETag appends the ETag of a record of a value form to b.
func appendETag(b []byte, r *etagRec) []byte {
	b = append(b, '"')
	switch r.form {
	case etagMD5:
		b = hex.AppendEncode(b, r.v[:])
	case etagSynth:
		b = strconv.AppendInt(b, int64(binary.BigEndian.Uint64(r.v[:8])), 16)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(binary.BigEndian.Uint64(r.v[8:])), 16)
	case etagAzure:
		b = append(b, "0x"...)
		start := len(b)
		b = strconv.AppendUint(b, binary.BigEndian.Uint64(r.v[:8]), 16)
		for i := start; i < len(b); i++ {
			if b[i] >= 'a' {
				b[i] -= 'a' - 'A'
			}
		}
	}
	return append(b, '"')
}

// encodeMD5ETag stores an MD5 ETag (`"` + 32 lower-case hex + `"`) in v.
func encodeMD5ETag(e string, v *[16]byte) bool {
	if len(e) != 34 || e[0] != '"' || e[33] != '"' {
		return false
	}
	for i := 1; i < 33; i++ {
		if c := e[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	_, err := hex.Decode(v[:], []byte(e[1:33]))
	return err == nil
}

// encodeSynthETag stores a file:// or mem:// ETag (`"%x-%x"` of two int64s)
// in v, when rebuilding it gives e back byte for byte.
func encodeSynthETag(e string, v *[16]byte) bool {
	if len(e) < 5 || e[0] != '"' || e[len(e)-1] != '"' {
		return false
	}
	s := e[1 : len(e)-1]
	i := strings.LastIndexByte(s, '-')
	if i <= 0 {
		return false
	}
	a, err := strconv.ParseInt(s[:i], 16, 64)
	if err != nil {
		return false
	}
	b, err := strconv.ParseInt(s[i+1:], 16, 64)
	if err != nil {
		return false
	}
	r := etagRec{form: etagSynth}
	binary.BigEndian.PutUint64(r.v[:8], uint64(a))
	binary.BigEndian.PutUint64(r.v[8:], uint64(b))
	return exactly(e, &r, v)
}

// encodeAzureETag stores an Azure ETag (`"0x` + upper-case hex + `"`) in
// v, when rebuilding it gives e back byte for byte.
func encodeAzureETag(e string, v *[16]byte) bool {
	if len(e) < 5 || !strings.HasPrefix(e, `"0x`) || e[len(e)-1] != '"' {
		return false
	}
	n, err := strconv.ParseUint(e[3:len(e)-1], 16, 64)
	if err != nil {
		return false
	}
	r := etagRec{form: etagAzure}
	binary.BigEndian.PutUint64(r.v[:8], n)
	return exactly(e, &r, v)
}

// exactly reports whether r rebuilds e, and if so stores r's value in v.
func exactly(e string, r *etagRec, v *[16]byte) bool {
	var buf [48]byte
	if string(appendETag(buf[:0], r)) != e {
		return false
	}
	*v = r.v
	return true
}
