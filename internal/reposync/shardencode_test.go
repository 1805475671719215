package reposync

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"testing"
)

// A shard is named by the hash of its JSON, so the hand-written encoder
// must write what encoding/json writes for its entries, byte for byte
// (else every shard of every existing manifest would be written again),
// for keys and types json escapes, omitted fields and negative numbers.
func TestShardEncodingMatchesJSON(t *testing.T) {
	objs := []ManifestObject{
		{Path: "a.txt", Key: "a.txt", Blob: "0123456789abcdef0123456789abcdef01234567", Size: 5, ETag: `"e1"`},
		{Path: "b <&>.html", Key: "pre/b <&>.html", Blob: "b", Size: 0, ContentType: "text/html; charset=utf-8", ETag: "", MTime: 1733500000123456789},
		{Path: "c\"\\\x01\xff é", Key: "c\"\\\x01\xff é", Blob: "asset-1-2", Size: -1, ContentType: "x/y", ETag: "W/\"z\"", MTime: -5},
	}
	entries := make([]shardEntry, len(objs))
	for i, ob := range objs {
		e := shardEntry{P: ob.Path, B: ob.Blob, S: ob.Size, T: ob.ContentType, E: ob.ETag, M: ob.MTime}
		if ob.Key != ob.Path {
			e.K = ob.Key
		}
		entries[i] = e
	}
	want, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	var enc shardEncoder
	for range 2 { // the second time with the encoder's buffers reused
		name, body, err := enc.encode(objs)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("shard JSON\n got %s\nwant %s", got, want)
		}
		if sum := sha256.Sum256(want); name != hex.EncodeToString(sum[:16]) {
			t.Errorf("shard name %s, want the hash of json's encoding", name)
		}
		dst := make([]ManifestObject, len(objs))
		if err := decodeShard(ShardRef{Name: name, Count: len(objs)}, body, dst); err != nil {
			t.Fatal(err)
		}
	}
}
