package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func randName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
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
