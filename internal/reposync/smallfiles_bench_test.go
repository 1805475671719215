package reposync

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

// smallTree writes n files of 1–640 random bytes (about 320 bytes on
// average, as in bench/reposync/smallfiles.sh) into 100-file folders under dir.
func smallTree(tb testing.TB, dir string, n int) int64 {
	tb.Helper()
	rng := rand.New(rand.NewPCG(42, 42))
	var total int64
	buf := make([]byte, 640)
	for i := range n {
		d := filepath.Join(dir, fmt.Sprintf("d%02d", i/100))
		if i%100 == 0 {
			if err := os.MkdirAll(d, 0o755); err != nil {
				tb.Fatal(err)
			}
		}
		size := 1 + rng.IntN(640)
		for j := range size {
			buf[j] = byte(rng.Uint32())
		}
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%04d.txt", i)), buf[:size], 0o644); err != nil {
			tb.Fatal(err)
		}
		total += int64(size)
	}
	return total
}

var benchBucket atomic.Int64

// BenchmarkSmallFiles syncs 10,000 small files from a folder into a fresh
// destination per iteration (file://, mem://, and s3:// when an S3 server is
// configured, see internal/s3test), with the settings `ghsync sync` uses (5 MiB
// parts, 2 parts in flight, 16 uploads at once, or
// $GHSYNC_BENCH_CONCURRENCY). Profile with
//
//	go test -run '^$' -bench SmallFiles -benchtime 3x -cpuprofile cpu.out ./internal/reposync/
func BenchmarkSmallFiles(b *testing.B) {
	src := b.TempDir()
	bytes := smallTree(b, src, 10_000)
	conc := DefaultConcurrency
	if v, err := strconv.Atoi(os.Getenv("GHSYNC_BENCH_CONCURRENCY")); err == nil {
		conc = v
	}
	for _, scheme := range []string{"file", "mem", "s3"} {
		b.Run(scheme, func(b *testing.B) {
			b.SetBytes(bytes)
			b.ReportAllocs()
			for range b.N {
				url := fmt.Sprintf("mem://bench-small-%d/", benchBucket.Add(1))
				switch scheme {
				case "file":
					url = "file://" + b.TempDir()
				case "s3":
					b.StopTimer()
					url = s3test.Bucket(b) // skips without a server
					b.StartTimer()
				}
				bk, err := store.Open(context.Background(), url, store.Options{PartSize: 5 << 20, Concurrency: 2})
				if err != nil {
					b.Fatal(err)
				}
				s, err := Run(context.Background(), Options{Source: source.NewDir(src, source.DirOptions{}), Bucket: bk, Concurrency: conc})
				if err != nil {
					b.Fatal(err)
				}
				if s.New != 10_000 {
					b.Fatalf("new = %d, want 10000", s.New)
				}
				bk.Close()
			}
		})
	}
}
