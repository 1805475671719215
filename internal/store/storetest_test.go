package store_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/ghsync/ghsync/internal/store"
	"github.com/ghsync/ghsync/internal/storetest"
)

// TestConformance runs the storetest suite against every scheme, each on its
// real server (mem://, file://, VersityGW, fake-gcs-server, Azurite). A
// missing server skips loudly, or fails under GHSYNC_REQUIRE_S3/GCS/AZURE=1.
func TestConformance(t *testing.T) {
	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) { storetest.Run(t, be) })
	}
}

// BenchmarkPut64MiB measures a streamed 64 MiB upload (16 MiB parts, 4 in flight).
func BenchmarkPut64MiB(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			bkt, err := store.Open(context.Background(), be.Root(b), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer bkt.Close()
			body := bytes.Repeat([]byte("0123456789abcdef"), 4<<20)
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := bkt.Put(context.Background(), fmt.Sprintf("o%d", i), struct{ io.Reader }{bytes.NewReader(body)}, store.PutOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
