package github

import (
	"context"
	"io"
	"net/http"
	"testing"
)

// BenchmarkResolveCommit compares one ResolveCommit through the full chain
// with the same GET sent by a bare http.Client, on loopback.
func BenchmarkResolveCommit(b *testing.B) {
	e := newEnv(b, Config{Token: "t"})
	e.mux.HandleFunc("GET /repos/o/r/commits/{ref}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "4999")
		w.Header().Set("X-RateLimit-Reset", "1740834000")
		io.WriteString(w, testSHA)
	})
	r, err := e.c.For(context.Background(), "o", "r")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("client", func(b *testing.B) {
		for b.Loop() {
			if _, _, _, err := r.ResolveCommit(context.Background(), "main", ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare-http", func(b *testing.B) {
		u := e.c.BaseURL() + "repos/o/r/commits/main"
		for b.Loop() {
			resp, err := http.Get(u)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
