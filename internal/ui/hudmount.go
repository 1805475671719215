package ui

import (
	"bytes"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// rootAttr matches an HTML attribute holding a root-relative URL ("/x" but
// not the protocol-relative "//host").
var rootAttr = regexp.MustCompile(`\b(href|src|action)="/([^/"]|")`)

// rewriteRoot serves h, whose pages assume they live at the site root, under
// prefix (no trailing slash): root-relative links in HTML responses and
// root-relative redirect locations get prefix prepended. Non-HTML responses
// pass through untouched.
func rewriteRoot(h http.Handler, prefix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &rewriter{w: w, prefix: prefix}
		h.ServeHTTP(rw, r)
		rw.finish()
	})
}

// rewriter buffers an HTML response to rewrite its links; other responses
// are streamed through.
type rewriter struct {
	w       http.ResponseWriter
	prefix  string
	code    int
	started bool
	html    bool
	buf     bytes.Buffer
}

func (rw *rewriter) Header() http.Header { return rw.w.Header() }

func (rw *rewriter) WriteHeader(code int) {
	if rw.started {
		return
	}
	rw.started, rw.code = true, code
	hdr := rw.w.Header()
	if loc := hdr.Get("Location"); strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") {
		hdr.Set("Location", rw.prefix+loc)
	}
	rw.html = strings.HasPrefix(hdr.Get("Content-Type"), "text/html")
	if !rw.html {
		rw.w.WriteHeader(code)
	}
}

func (rw *rewriter) Write(p []byte) (int, error) {
	if !rw.started {
		if rw.w.Header().Get("Content-Type") == "" {
			rw.w.Header().Set("Content-Type", http.DetectContentType(p))
		}
		rw.WriteHeader(http.StatusOK)
	}
	if rw.html {
		return rw.buf.Write(p)
	}
	return rw.w.Write(p)
}

// finish writes the rewritten HTML body.
func (rw *rewriter) finish() {
	if !rw.started || !rw.html {
		return
	}
	out := rootAttr.ReplaceAll(rw.buf.Bytes(), []byte(`$1="`+rw.prefix+`/$2`))
	rw.w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	rw.w.WriteHeader(rw.code)
	_, _ = rw.w.Write(out)
}
