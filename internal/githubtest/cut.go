package githubtest

import (
	"net"
	"net/http"
)

// CutMode is how CutBody ends a response early.
type CutMode int

const (
	// CutClose closes the connection after the kept bytes (the client sees
	// a body shorter than its Content-Length: io.ErrUnexpectedEOF).
	CutClose CutMode = iota
	// CutReset aborts the connection with a TCP reset after the kept bytes
	// (the client sees "connection reset by peer").
	CutReset
)

// cutRule is an injected early end of a body (CutBody).
type cutRule struct {
	route string
	keep  int
	mode  CutMode
	times int
}

// CutBody makes the next times responses to requests matching route (a
// route key as for Fail, "GET /_codeload" for archive downloads, or "*" for
// any) send their status and headers, including the full Content-Length,
// then only the first keep bytes of the body, and end the connection as
// mode says. It is a network fault, not a GitHub answer, so the contract is
// not consulted. Rules are used in the order they were added.
func (s *Server) CutBody(route string, keep int, mode CutMode, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cuts = append(s.cuts, &cutRule{route: route, keep: keep, mode: mode, times: times})
}

// Cuts returns how many responses CutBody has cut so far.
func (s *Server) Cuts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cutsDone
}

// cutting returns w, or a writer that cuts the body when a CutBody rule
// matches route key (using up one of its times).
func (s *Server) cutting(w http.ResponseWriter, key string) http.ResponseWriter {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cuts {
		if c.times > 0 && (c.route == "*" || matchRoute(c.route, key)) {
			c.times--
			s.cutsDone++
			return &cutWriter{ResponseWriter: w, left: c.keep, mode: c.mode}
		}
	}
	return w
}

// cutWriter passes left bytes of the body and then ends the connection.
type cutWriter struct {
	http.ResponseWriter
	left int
	mode CutMode
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if len(p) <= c.left {
		c.left -= len(p)
		return c.ResponseWriter.Write(p)
	}
	n, _ := c.ResponseWriter.Write(p[:c.left])
	c.left = 0
	c.end()
	return n, http.ErrAbortHandler // not reached: end panics
}

// end flushes what was written and ends the connection without the rest.
func (c *cutWriter) end() {
	rc := http.NewResponseController(c.ResponseWriter)
	_ = rc.Flush()
	if c.mode == CutReset {
		if conn, _, err := rc.Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // close sends RST
			}
			_ = conn.Close()
		}
	}
	// The server closes the connection of an aborted handler without
	// finishing the body.
	panic(http.ErrAbortHandler)
}

// ClearCuts removes every CutBody rule not used up yet.
func (s *Server) ClearCuts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cuts = nil
}
