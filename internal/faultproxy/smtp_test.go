package faultproxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/smtp"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// mailbox is an in-process go-smtp server (STARTTLS offered) counting the
// messages it accepted.
type mailbox struct {
	mu    sync.Mutex
	mails [][]byte
}

func (m *mailbox) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &mboxSession{m: m}, nil }

type mboxSession struct{ m *mailbox }

func (s *mboxSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *mboxSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (s *mboxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.mails = append(s.m.mails, b)
	s.m.mu.Unlock()
	return nil
}
func (s *mboxSession) Reset()        {}
func (s *mboxSession) Logout() error { return nil }

func (m *mailbox) count() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.mails) }

// testCert is a self-signed certificate for 127.0.0.1 and a pool trusting it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "faultproxy"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, pool
}

func startMailbox(t *testing.T, cert tls.Certificate) (*mailbox, string) {
	t.Helper()
	m := &mailbox{}
	srv := gosmtp.NewServer(m)
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return m, ln.Addr().String()
}

// send delivers one message through addr with STARTTLS, as a mail client
// would, and returns its error.
func send(addr string, pool *x509.CertPool) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.StartTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}); err != nil {
		return err
	}
	if err := c.Mail("a@example.com"); err != nil {
		return err
	}
	if err := c.Rcpt("b@example.com"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	io.WriteString(w, "Subject: hi\r\n\r\nline 1\r\nline 2\r\nline 3\r\n")
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func TestSMTPKinds(t *testing.T) {
	cert, pool := testCert(t)
	for _, tc := range []struct {
		kind    Kind
		wantErr bool
		mails   int
	}{
		{"", false, 1},
		{DropMidData, true, 0},
		{ActedReset, true, 1}, // the upstream acted; the client saw a failure
	} {
		t.Run(string(tc.kind)+"pass", func(t *testing.T) {
			mb, addr := startMailbox(t, cert)
			rates := Rates{}
			if tc.kind != "" {
				rates[tc.kind] = 1
			}
			p, err := NewSMTP(addr, SMTPConfig{Seed: 1, Rates: rates,
				ServerTLS:   &tls.Config{Certificates: []tls.Certificate{cert}},
				UpstreamTLS: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			err = send(p.Addr, pool)
			if (err != nil) != tc.wantErr {
				t.Fatalf("send: %v, want error %v", err, tc.wantErr)
			}
			p.Close() // waits for the relayed session: the upstream has answered
			if mb.count() != tc.mails {
				t.Fatalf("upstream accepted %d messages, want %d", mb.count(), tc.mails)
			}
			if tc.kind != "" && p.Counts()[tc.kind] != 1 {
				t.Fatalf("counts %v", p.Counts())
			}
			if d := p.Decisions(); len(d) != 1 || d[0].Kind != tc.kind {
				t.Fatalf("decisions %v", d)
			}
		})
	}
}
