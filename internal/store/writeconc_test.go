package store

import (
	"context"
	"runtime"
	"testing"
)

func TestWriteConcurrency(t *testing.T) {
	ctx := context.Background()
	fb, err := Open(ctx, "file://"+t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	mb, err := Open(ctx, "mem://", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	limit := 2 * runtime.NumCPU()
	for _, c := range []struct {
		b         *Bucket
		want, got int
	}{
		{fb, 1, 1}, {fb, limit, limit}, {fb, limit + 100, limit}, {fb, 0, 1},
		{mb, 1, 1}, {mb, 256, 256}, {mb, 0, 1},
	} {
		if got := c.b.WriteConcurrency(c.want); got != c.got {
			t.Errorf("%s WriteConcurrency(%d) = %d, want %d", c.b.Kind(), c.want, got, c.got)
		}
	}
}
