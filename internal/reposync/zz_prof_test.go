//go:build prof

package reposync

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// go test -tags prof -run TestProfRun -count=1 ./internal/reposync/ with PROF_TREE, PROF_DEST, PROF_OUT
func TestProfRun(t *testing.T) {
	debug.SetGCPercent(50)
	tree, dest, out := os.Getenv("PROF_TREE"), os.Getenv("PROF_DEST"), os.Getenv("PROF_OUT")
	ctx := context.Background()
	b, err := store.Open(ctx, dest, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t0 := time.Now()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var max uint64
		for {
			select {
			case <-stop:
				fmt.Printf("max live %d MB\n", max>>20)
				return
			case <-time.After(200 * time.Millisecond):
			}
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > max+max/50 {
				max = v
				f, _ := os.Create(fmt.Sprintf("%s.%04d.t%03d", out, v>>20, int(time.Since(t0).Seconds())))
				pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
	}()
	o := Options{Source: source.NewDir(tree, source.DirOptions{}), Bucket: b}
	start := time.Now()
	sum, err := Run(ctx, o)
	close(stop)
	<-done
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("err=%v new=%d took=%s heapsys=%dMB\n", err, sum.New, time.Since(start), ms.HeapSys>>20)
}
