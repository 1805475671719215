package faultproxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config configures an HTTP Proxy. Seed and Rates decide; the rest shapes
// the answers.
type Config struct {
	// Seed makes the decisions reproducible (see the package doc).
	Seed uint64
	// Rates per kind; the zero value injects nothing.
	Rates Rates
	// Filter says which requests are eligible; nil: every request.
	Filter Filter
	// MaxDelay bounds the Slow kind's delay; zero means 300ms.
	MaxDelay time.Duration
	// RetryAfter is the Retry-After value sent with 429; empty means "1".
	RetryAfter string
	// ErrorBody and ErrorType are the body and Content-Type of injected 5xx,
	// 429 and 502 answers; empty means a JSON {"message": …}.
	ErrorBody, ErrorType string
	// Logf, when set, receives one line per decision (faults and passes).
	Logf func(format string, args ...any)
}

// Proxy is a running HTTP fault proxy. Create it with NewHTTP; Close stops it.
type Proxy struct {
	*decider
	// URL is the proxy's base URL (http://127.0.0.1:port), to use in place
	// of the upstream's.
	URL string

	up   *url.URL
	cfg  Config
	srv  *http.Server
	ln   net.Listener
	tr   *http.Transport
	base string // upstream base URL without trailing slash, for Location rewriting
}

// NewHTTP starts a proxy on 127.0.0.1 in front of upstream (an http(s) base
// URL; a path is prefixed to every request's). Redirect Locations that point
// into the upstream are rewritten to point at the proxy; the Host header is
// relayed as the client sent it (signatures such as AWS SigV4 cover it).
func NewHTTP(upstream string, cfg Config) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: upstream %q: want an http(s) base URL", upstream)
	}
	if cfg.MaxDelay == 0 {
		cfg.MaxDelay = 300 * time.Millisecond
	}
	if cfg.RetryAfter == "" {
		cfg.RetryAfter = "1"
	}
	if cfg.ErrorBody == "" {
		cfg.ErrorBody, cfg.ErrorType = `{"message":"fault injected by faultproxy"}`, "application/json"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{
		decider: newDecider(cfg.Seed, cfg.Rates, HTTPKinds, cfg.Logf),
		URL:     "http://" + ln.Addr().String(),
		up:      u, cfg: cfg, ln: ln,
		tr:   &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 32, ResponseHeaderTimeout: time.Minute},
		base: strings.TrimRight(u.String(), "/"),
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

// Close stops the proxy and closes its connections.
func (p *Proxy) Close() error {
	p.tr.CloseIdleConnections()
	return p.srv.Close()
}

// hopHeaders are not relayed.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "faultproxy: reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	seq, d := int64(-1), draw{}
	if p.cfg.Filter == nil || p.cfg.Filter(r) {
		seq, d = p.next()
	}
	dec := Decision{Seq: seq, Method: r.Method, Path: r.URL.Path, Kind: d.kind}
	// done records the decision before the client can see its effect, so
	// Counts and Decisions are complete once a client has its answer.
	done := func() {
		if seq >= 0 {
			p.record(dec)
		}
	}
	switch d.kind {
	case ServerError:
		status := []int{500, 502, 503}[d.rng.IntN(3)]
		dec.Detail = strconv.Itoa(status)
		done()
		p.errorAnswer(w, status, nil)
		return
	case TooMany:
		dec.Detail = "Retry-After: " + p.cfg.RetryAfter
		done()
		p.errorAnswer(w, http.StatusTooManyRequests, http.Header{"Retry-After": {p.cfg.RetryAfter}})
		return
	case Slow:
		wait := delay(d.rng, p.cfg.MaxDelay)
		dec.Detail = wait.String()
		select {
		case <-time.After(wait):
		case <-r.Context().Done():
			done()
			return
		}
	}
	resp, err := p.forward(r, body)
	if err != nil {
		if d.kind != Slow { // the fault needed the upstream's answer: not injected
			dec.Kind, dec.Detail = "", "not injected ("+string(d.kind)+")"
		}
		dec.Detail += " upstream: " + err.Error()
		done()
		http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	switch d.kind {
	case Acted:
		n, _ := io.Copy(io.Discard, resp.Body)
		dec.Detail = fmt.Sprintf("upstream answered %d (%d bytes)", resp.StatusCode, n)
		done()
		p.errorAnswer(w, http.StatusBadGateway, nil)
		return
	case Reset, Short:
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			dec.Kind, dec.Detail = "", "not injected ("+string(d.kind)+") upstream body: "+err.Error()
			done()
			http.Error(w, "faultproxy: upstream body: "+err.Error(), http.StatusBadGateway)
			return
		}
		p.cut(w, r, resp, data, d, func(k Kind, detail string) { dec.Kind, dec.Detail = k, detail; done() })
		return
	}
	done()
	p.relay(w, resp)
}

// forward sends the request to the upstream.
func (p *Proxy) forward(r *http.Request, body []byte) (*http.Response, error) {
	out := r.Clone(context.WithoutCancel(r.Context()))
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = p.up.Scheme, p.up.Host
	out.URL.Path = strings.TrimRight(p.up.Path, "/") + r.URL.Path
	if r.URL.RawPath != "" {
		out.URL.RawPath = strings.TrimRight(p.up.EscapedPath(), "/") + r.URL.RawPath
	}
	out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	if len(body) == 0 && r.ContentLength <= 0 {
		out.Body = http.NoBody
	}
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	ctx, cancel := context.WithCancel(r.Context())
	out = out.WithContext(ctx)
	resp, err := p.tr.RoundTrip(out)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelBody) Close() error { err := c.ReadCloser.Close(); c.cancel(); return err }

// relay copies the upstream's answer to the client.
func (p *Proxy) relay(w http.ResponseWriter, resp *http.Response) {
	h := w.Header()
	for k, vs := range resp.Header {
		h[k] = append([]string(nil), vs...)
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
	p.rewriteLocation(h)
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// rewriteLocation points a redirect into the upstream at the proxy.
func (p *Proxy) rewriteLocation(h http.Header) {
	if loc := h.Get("Location"); strings.HasPrefix(loc, p.base) {
		h.Set("Location", p.URL+strings.TrimPrefix(loc, p.base))
	}
}

// errorAnswer writes an injected error status with the configured body.
func (p *Proxy) errorAnswer(w http.ResponseWriter, status int, extra http.Header) {
	for k, vs := range extra {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Type", p.cfg.ErrorType)
	w.Header().Set("Content-Length", strconv.Itoa(len(p.cfg.ErrorBody)))
	w.WriteHeader(status)
	io.WriteString(w, p.cfg.ErrorBody)
}

// cut writes the upstream's status and headers with the full Content-Length
// and part of data on the raw connection, then resets (Reset) or closes
// (Short) it. It calls done with the kind actually injected and its detail
// before the client sees anything.
func (p *Proxy) cut(w http.ResponseWriter, r *http.Request, resp *http.Response, data []byte, d draw, done func(Kind, string)) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		done(ServerError, "no hijacker: 502")
		p.errorAnswer(w, http.StatusBadGateway, nil)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		done(ServerError, "hijack: "+err.Error())
		return
	}
	defer conn.Close()
	kind := d.kind
	if len(data) < 2 || r.Method == http.MethodHead {
		done(Reset, "reset before the status line")
		resetConn(conn) // nothing to cut: reset before the status line
		return
	}
	n := 1 + d.rng.IntN(len(data)-1) // 1 ≤ n < len(data)
	done(kind, fmt.Sprintf("status %d, %d of %d bytes", resp.StatusCode, n, len(data)))
	writeHead(buf.Writer, resp, len(data), p)
	buf.Write(data[:n])
	buf.Flush()
	if kind == Reset {
		time.Sleep(10 * time.Millisecond) // let the client read what was sent before the RST
		resetConn(conn)
	}
}

// writeHead writes an HTTP/1.1 status line and headers declaring size bytes.
func writeHead(bw *bufio.Writer, resp *http.Response, size int, p *Proxy) {
	h := resp.Header.Clone()
	for _, k := range hopHeaders {
		h.Del(k)
	}
	p.rewriteLocation(h)
	h.Set("Content-Length", strconv.Itoa(size))
	h.Set("Connection", "close")
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	h.Write(bw)
	bw.WriteString("\r\n")
}

// resetConn makes Close send a TCP RST instead of a FIN.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
}
