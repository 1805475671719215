package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/s3test"
)

// backend names a destination kind and makes a fresh empty destination URL
// (with the given prefix, "" for none) for one test.
type backend struct {
	name string
	url  func(t *testing.T, prefix string) string
}

func randName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// backends lists mem://, file:// and the real S3 server. The s3 entry skips
// (or fails with GHSYNC_REQUIRE_S3=1) when no server is configured.
func backends() []backend {
	return []backend{
		{"mem", func(t *testing.T, prefix string) string {
			return "mem://t" + randName() + "/" + prefix
		}},
		{"file", func(t *testing.T, prefix string) string {
			u := "file://" + t.TempDir()
			if prefix != "" {
				u += "?prefix=" + url.QueryEscape(prefix)
			}
			return u
		}},
		{"s3", func(t *testing.T, prefix string) string {
			return withPath(t, s3test.Bucket(t), prefix)
		}},
	}
}

// withPath sets the path (key prefix) of a bucket URL.
func withPath(t *testing.T, raw, prefix string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + prefix
	return u.String()
}

// forEachBackend runs fn as a subtest per backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, be backend)) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) { fn(t, be) })
	}
}

func open(t *testing.T, raw string, opts Options) *Bucket {
	t.Helper()
	b, err := Open(context.Background(), raw, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", raw, err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func put(t *testing.T, b *Bucket, key, body string, o PutOptions) Object {
	t.Helper()
	if o.Size == 0 {
		o.Size = int64(len(body))
	}
	obj, err := b.Put(context.Background(), key, strings.NewReader(body), o)
	if err != nil {
		t.Fatalf("Put(%s): %v", key, err)
	}
	return obj
}

// listAll returns the listing as a key → Object map, failing on duplicates.
func listAll(t *testing.T, b *Bucket) map[string]Object {
	t.Helper()
	m := map[string]Object{}
	err := b.List(context.Background(), func(o Object) error {
		if _, dup := m[o.Key]; dup {
			return errors.New("duplicate key " + o.Key)
		}
		m[o.Key] = o
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return m
}

// pattern returns n deterministic, non-repeating-ish bytes.
func pattern(n int) []byte {
	var buf bytes.Buffer
	for i := 0; buf.Len() < n; i++ {
		buf.WriteString(hex.EncodeToString([]byte{byte(i), byte(i >> 8), byte(i >> 16)}))
		buf.WriteByte('\n')
	}
	return buf.Bytes()[:n]
}
