package github

import (
	"io"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Stats counts what a Client sent and received since it was created.
type Stats struct {
	// Requests is every HTTP request sent, including retries, token
	// exchanges, installation discovery and redirect hops.
	Requests int
	// NotModified is how many responses were 304 Not Modified.
	NotModified int
	// BytesDownloaded is the number of response body bytes read.
	BytesDownloaded int64
	// Retries is how many requests were resent after a 5xx or network error.
	Retries int
	// RateLimitWaits is how many times ghsync waited for a rate limit.
	RateLimitWaits int
	// ByRoute counts requests per route, e.g.
	// "GET /repos/{owner}/{repo}/commits/{ref}"; requests to other hosts
	// (archive and asset downloads) count as "GET host".
	ByRoute map[string]int
}

// stats is the Client's thread-safe counter set.
type stats struct {
	bytes atomic.Int64

	mu        sync.Mutex
	s         Stats
	remaining int
	reset     time.Time
	known     bool
}

func (st *stats) request(route string, status int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.Requests++
	if status == http.StatusNotModified {
		st.s.NotModified++
	}
	if st.s.ByRoute == nil {
		st.s.ByRoute = map[string]int{}
	}
	st.s.ByRoute[route]++
}

func (st *stats) retry()    { st.mu.Lock(); st.s.Retries++; st.mu.Unlock() }
func (st *stats) rateWait() { st.mu.Lock(); st.s.RateLimitWaits++; st.mu.Unlock() }

// rate records x-ratelimit-remaining / x-ratelimit-reset when present.
func (st *stats) rate(h http.Header) {
	rem, err1 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	reset, err2 := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil {
		return
	}
	st.mu.Lock()
	st.remaining, st.reset, st.known = rem, time.Unix(reset, 0), true
	st.mu.Unlock()
}

func (st *stats) snapshot() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := st.s
	out.ByRoute = maps.Clone(st.s.ByRoute)
	if out.ByRoute == nil {
		out.ByRoute = map[string]int{}
	}
	out.BytesDownloaded = st.bytes.Load()
	return out
}

// countingBody adds every byte read to a counter.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
