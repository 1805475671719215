package hud

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/store"
)

// goldenPath is the v5 golden snapshot statuses' tests pin.
const goldenPath = "../statuses/testdata/v5_main.json"

// goldenBucket stores the golden snapshot gzip-compressed under
// acme/app/main.json, as statuses writes it.
func goldenBucket(t *testing.T) *store.Bucket {
	t.Helper()
	raw, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	ctx := context.Background()
	b, err := store.Open(ctx, "mem://", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if _, err := b.Put(ctx, "acme/app/main.json", &z, store.PutOptions{ContentType: "application/json", ContentEncoding: "gzip"}); err != nil {
		t.Fatal(err)
	}
	return b
}

func newHandler(t *testing.T, b *store.Bucket, refresh time.Duration) *Handler {
	t.Helper()
	h, err := New(Options{Bucket: b, Refresh: refresh})
	if err != nil {
		t.Fatal(err)
	}
	return h
}
