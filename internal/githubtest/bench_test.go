package githubtest

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkBlobGet measures one validated GET /git/blobs round trip.
func BenchmarkBlobGet(b *testing.B) {
	s := New(b, Options{})
	s.SetRateLimit(1<<30, 1<<30, time.Now().Add(time.Hour))
	r := s.AddRepo("acme", "site")
	files := map[string]string{}
	for i := 0; i < 100; i++ {
		files[fmt.Sprintf("f%03d.txt", i)] = fmt.Sprintf("content %d %s", i, make([]byte, 2000))
	}
	r.Commit("main", files)
	c := newClient(b, s)
	sha := GitBlobSHA([]byte(files["f001.txt"]))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := c.Git.GetBlob(context.Background(), "acme", "site", sha); err != nil {
			b.Fatal(err)
		}
	}
}
