package reposync

// The byte-level encoders of the sharded manifest: shards (encoded one
// after another into reused buffers) and the root with its pending keys
// (streamed as the store reads it). Both write exactly what encoding/json
// would, so names and documents do not depend on which encoder wrote them.

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"strconv"
)

// encodeShard returns a shard's content sum (the hash part of its name, shardname.go) and gzip-compressed body.
func encodeShard(objects []ManifestObject) (string, []byte, error) {
	var e shardEncoder
	return e.encode(objects)
}

// shardEncoder encodes shards one after another, reusing its compressor
// and buffers (a gzip writer is ~1 MB of tables: one per shard made a
// 100,000-file run's manifest write allocate ~100 MB), and writes the
// JSON itself (appendShardEntry) instead of through encoding/json's
// reflection and pooled buffers.
type shardEncoder struct {
	raw []byte
	zw  *gzip.Writer
	buf bytes.Buffer
}

// encode returns a shard's content sum (its name's hash part) and gzip-compressed body (its own slice).
func (e *shardEncoder) encode(objects []ManifestObject) (string, []byte, error) {
	raw := append(e.raw[:0], '[')
	for i := range objects {
		if i > 0 {
			raw = append(raw, ',')
		}
		raw = appendShardEntry(raw, &objects[i])
	}
	raw = append(raw, ']')
	e.raw = raw
	sum := sha256.Sum256(raw)
	e.buf.Reset()
	if e.zw == nil {
		e.zw, _ = gzip.NewWriterLevel(&e.buf, gzip.BestSpeed)
	} else {
		e.zw.Reset(&e.buf)
	}
	if _, err := e.zw.Write(raw); err != nil {
		return "", nil, fmt.Errorf("compress manifest shard: %w", err)
	}
	if err := e.zw.Close(); err != nil {
		return "", nil, fmt.Errorf("compress manifest shard: %w", err)
	}
	return hex.EncodeToString(sum[:16]), bytes.Clone(e.buf.Bytes()), nil
}

// appendShardEntry appends the JSON encoding/json writes for ob's
// shardEntry (the key only when it differs from the path; the content
// type and modification time only when set). A shard's name is the hash
// of these bytes, so they must not change.
func appendShardEntry(out []byte, ob *ManifestObject) []byte {
	out = append(out, `{"p":`...)
	out = appendJSONString(out, ob.Path)
	if ob.Key != ob.Path && ob.Key != "" {
		out = append(out, `,"k":`...)
		out = appendJSONString(out, ob.Key)
	}
	out = append(out, `,"b":`...)
	out = appendJSONString(out, ob.Blob)
	out = append(out, `,"s":`...)
	out = strconv.AppendInt(out, ob.Size, 10)
	if ob.ContentType != "" {
		out = append(out, `,"t":`...)
		out = appendJSONString(out, ob.ContentType)
	}
	out = append(out, `,"e":`...)
	out = appendJSONString(out, ob.ETag)
	if ob.MTime != 0 {
		out = append(out, `,"m":`...)
		out = strconv.AppendInt(out, ob.MTime, 10)
	}
	return append(out, '}')
}

// marshalWithPending returns a reader of json.Marshal of root with
// Pending set to the keys of touched (key → path, in key order), byte for
// byte, without building Pending or the document: root is encoded
// without it (Pending is its last field), a first pass over touched
// measures the entries (Size), and Read encodes them as the store reads.
// A cold run's intent names every key of the tree (27 MB at 1,000,000
// files). Close releases touched.
func marshalWithPending(root *Manifest, touched iter.Seq2[string, string]) (*pendingBody, error) {
	root.Pending = nil
	head, err := json.Marshal(root)
	if err != nil {
		return nil, err
	}
	if len(head) < 2 || head[len(head)-1] != '}' {
		return nil, fmt.Errorf("manifest root encodes as %.20q…", head)
	}
	const open, end = `,"pending":[`, `]}`
	var quoteErr error
	size, n := int64(len(head)-1+len(open)+len(end)), 0
	for key, path := range touched {
		size += int64(pendingLen(key, path, &quoteErr))
		n++
	}
	if quoteErr != nil {
		return nil, quoteErr
	}
	if n == 0 {
		return &pendingBody{buf: head, size: int64(len(head)), done: true}, nil
	}
	next, stop := iter.Pull2(touched)
	b := &pendingBody{next: next, stop: stop, size: size + int64(n-1), first: true}
	b.buf = append(append(head[:len(head)-1:len(head)-1], open...), nil...)
	return b, nil
}

// pendingBody is the document marshalWithPending encodes as it is read.
type pendingBody struct {
	buf     []byte // encoded, not yet read
	scratch []byte // buf's storage once the head is read
	next    func() (string, string, bool)
	stop    func()
	first   bool // no entry written yet
	done    bool // the last bytes are in buf
	size    int64
}

// Size is the document's length in bytes.
func (b *pendingBody) Size() int64 { return b.size }

func (b *pendingBody) Read(p []byte) (int, error) {
	for len(b.buf) == 0 {
		if b.done {
			return 0, io.EOF
		}
		out := b.scratch[:0]
		for len(out) < 32<<10 {
			key, path, ok := b.next()
			if !ok {
				out = append(out, `]}`...)
				b.done = true
				b.Close()
				break
			}
			if !b.first {
				out = append(out, ',')
			}
			b.first = false
			out = appendPending(out, key, path)
		}
		b.scratch, b.buf = out, out
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

// Close releases the keys' iterator; reading after it is an error only
// if the document was not read to its end.
func (b *pendingBody) Close() error {
	if b.stop != nil {
		b.stop()
		b.stop = nil
	}
	if !b.done {
		b.done, b.buf = true, nil
	}
	return nil
}

// pendingLen is the length of a pending key's JSON (appendPending).
func pendingLen(key, path string, errp *error) int {
	n := len(`{"k":}`) + jsonStringLen(key, errp)
	if path != key && path != "" {
		n += len(`,"p":`) + jsonStringLen(path, errp)
	}
	return n
}

// appendPending appends the JSON of pendingKey(key, path) as
// encoding/json writes it.
func appendPending(out []byte, key, path string) []byte {
	out = append(out, `{"k":`...)
	out = appendJSONString(out, key)
	if path != key && path != "" {
		out = append(out, `,"p":`...)
		out = appendJSONString(out, path)
	}
	return append(out, '}')
}

// plainJSON reports whether encoding/json writes s as itself in quotes:
// printable ASCII other than the quote, the backslash and the characters
// it escapes for HTML.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func jsonStringLen(s string, errp *error) int {
	if plainJSON(s) {
		return len(s) + 2
	}
	b, err := json.Marshal(s)
	if err != nil && *errp == nil {
		*errp = err
	}
	return len(b)
}

func appendJSONString(out []byte, s string) []byte {
	if plainJSON(s) {
		out = append(out, '"')
		out = append(out, s...)
		return append(out, '"')
	}
	b, _ := json.Marshal(s) // an error was returned by jsonStringLen
	return append(out, b...)
}
