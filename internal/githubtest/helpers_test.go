package githubtest

import (
	"io"
	"net/http"
	"testing"
)

// do sends a request to s and returns the response with its body read.
// Redirects are not followed. hdr pairs are header name, value.
func do(t *testing.T, s *Server, method, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("Accept", "application/vnd.github+json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// noViolations fails t if s recorded contract violations so far.
func noViolations(t *testing.T, s *Server) {
	t.Helper()
	for _, v := range s.TakeViolations() {
		t.Errorf("violation: %s", v)
	}
}

func bufCopy(dst io.Writer, src io.Reader) (int64, error) { return io.Copy(dst, src) }
