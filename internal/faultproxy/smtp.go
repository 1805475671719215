package faultproxy

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// SMTPConfig configures an SMTPProxy.
type SMTPConfig struct {
	// Seed makes the decisions reproducible (see the package doc).
	Seed uint64
	// Rates per SMTP kind (DropMidData, ActedReset); one decision per message.
	Rates Rates
	// ServerTLS is presented to clients that send STARTTLS; the proxy then
	// issues STARTTLS to the upstream with UpstreamTLS. Nil ServerTLS: the
	// proxy answers STARTTLS with 454 itself.
	ServerTLS, UpstreamTLS *tls.Config
	// Logf, when set, receives one line per decision.
	Logf func(format string, args ...any)
}

// SMTPProxy relays SMTP sessions to an upstream server command by command
// (terminating STARTTLS on both sides, so it sees the commands), and
// injects faults into the DATA phase. Create it with NewSMTP.
type SMTPProxy struct {
	*decider
	// Addr is the proxy's host:port.
	Addr string

	upstream string
	cfg      SMTPConfig
	ln       net.Listener
	wg       sync.WaitGroup
}

// NewSMTP starts a proxy on 127.0.0.1 in front of the SMTP server at
// upstream (host:port).
func NewSMTP(upstream string, cfg SMTPConfig) (*SMTPProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &SMTPProxy{decider: newDecider(cfg.Seed, cfg.Rates, SMTPKinds, cfg.Logf), Addr: ln.Addr().String(),
		upstream: upstream, cfg: cfg, ln: ln}
	go p.accept()
	return p, nil
}

// Close stops accepting sessions and waits for the running ones.
func (p *SMTPProxy) Close() error {
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *SMTPProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer c.Close()
			p.session(c)
		}()
	}
}

// smtpSide is one end of a relayed session.
type smtpSide struct {
	raw net.Conn // the TCP connection (for resets)
	c   net.Conn // raw or its TLS wrapper
	r   *bufio.Reader
	w   *bufio.Writer
}

func newSide(raw, c net.Conn) *smtpSide {
	return &smtpSide{raw: raw, c: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}
}

func (s *smtpSide) send(lines ...string) error {
	for _, l := range lines {
		if _, err := s.w.WriteString(l); err != nil {
			return err
		}
	}
	return s.w.Flush()
}

// reply reads one (possibly multi-line) SMTP reply: its lines and code.
func (s *smtpSide) reply() ([]string, string, error) {
	var lines []string
	for {
		l, err := s.r.ReadString('\n')
		if err != nil {
			return lines, "", err
		}
		lines = append(lines, l)
		if len(l) < 4 || l[3] != '-' {
			code := ""
			if len(l) >= 3 {
				code = l[:3]
			}
			return lines, code, nil
		}
	}
}

// session relays one client connection until QUIT, an error or a fault.
func (p *SMTPProxy) session(cc net.Conn) {
	uc, err := net.DialTimeout("tcp", p.upstream, 10*time.Second)
	if err != nil {
		cc.Write([]byte("421 faultproxy: upstream unreachable\r\n"))
		return
	}
	defer uc.Close()
	deadline := time.Now().Add(2 * time.Minute)
	cc.SetDeadline(deadline)
	uc.SetDeadline(deadline)
	client, up := newSide(cc, cc), newSide(uc, uc)
	relay := func() (string, error) {
		lines, code, err := up.reply()
		if err != nil {
			return "", err
		}
		return code, client.send(lines...)
	}
	if _, err := relay(); err != nil { // greeting
		return
	}
	var rcpts []string
	for {
		line, err := client.r.ReadString('\n')
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.TrimSpace(strings.SplitN(line, " ", 2)[0]))
		switch verb {
		case "STARTTLS":
			if !p.startTLS(client, up) {
				return
			}
			continue
		case "RCPT":
			rcpts = append(rcpts, strings.TrimSpace(line[4:]))
		case "RSET", "MAIL":
			if verb == "RSET" {
				rcpts = nil
			}
		}
		if err := up.send(line); err != nil {
			return
		}
		code, err := relay()
		if err != nil || verb == "QUIT" {
			return
		}
		if verb == "DATA" && code == "354" {
			if !p.data(client, up, strings.Join(rcpts, " ")) {
				return
			}
			rcpts = nil
		}
	}
}

// startTLS upgrades both sides; false ends the session.
func (p *SMTPProxy) startTLS(client, up *smtpSide) bool {
	if p.cfg.ServerTLS == nil {
		return client.send("454 4.7.0 faultproxy: TLS not available\r\n") == nil
	}
	if err := up.send("STARTTLS\r\n"); err != nil {
		return false
	}
	lines, code, err := up.reply()
	if err != nil {
		return false
	}
	if code != "220" {
		return client.send(lines...) == nil
	}
	ut := tls.Client(up.raw, p.cfg.UpstreamTLS)
	if err := ut.Handshake(); err != nil {
		client.send("454 4.7.0 faultproxy: upstream TLS: " + err.Error() + "\r\n")
		return false
	}
	if err := client.send(lines...); err != nil {
		return false
	}
	ct := tls.Server(client.raw, p.cfg.ServerTLS)
	if err := ct.Handshake(); err != nil {
		return false
	}
	*up, *client = *newSide(up.raw, ut), *newSide(client.raw, ct)
	return true
}

// data relays one message's DATA (after the upstream's 354), injecting the
// decided fault; false ends the session.
func (p *SMTPProxy) data(client, up *smtpSide, rcpts string) bool {
	var msg []string
	for {
		l, err := client.r.ReadString('\n')
		if err != nil {
			return false
		}
		msg = append(msg, l)
		if l == ".\r\n" || l == ".\n" {
			break
		}
	}
	seq, d := p.next()
	dec := Decision{Seq: seq, Method: "DATA", Path: rcpts, Kind: d.kind}
	// The decision is recorded before the client sees its effect.
	switch d.kind {
	case DropMidData:
		n := d.rng.IntN(len(msg)) // lines before the final dot
		dec.Detail = fmt.Sprintf("%d of %d lines relayed", n, len(msg)-1)
		up.send(msg[:n]...)
		p.record(dec)
		resetConn(client.raw)
		return false
	case ActedReset:
		if err := up.send(msg...); err != nil {
			return false
		}
		_, code, _ := up.reply()
		dec.Detail = "upstream answered " + code
		p.record(dec)
		resetConn(client.raw)
		return false
	}
	if seq >= 0 {
		p.record(dec)
	}
	if err := up.send(msg...); err != nil {
		return false
	}
	lines, _, err := up.reply()
	if err != nil {
		return false
	}
	return client.send(lines...) == nil
}
