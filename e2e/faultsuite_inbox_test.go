//go:build integration

package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/faultproxy"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/inbox/inboxtest"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

// callbackRecorder is the callback endpoint: it records every POST body.
type callbackRecorder struct {
	mu     sync.Mutex
	bodies []string
}

func (c *callbackRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if r.Method == http.MethodPost {
		c.mu.Lock()
		c.bodies = append(c.bodies, string(b))
		c.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

// distinct returns the distinct bodies mentioning group.
func (c *callbackRecorder) distinct(group string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	for _, b := range c.bodies {
		if strings.Contains(b, group) {
			seen[b] = true
		}
	}
	return len(seen)
}

// proxyCert is a self-signed certificate for 127.0.0.1 (the SMTP fault
// proxy's STARTTLS side) and the path of its PEM, for SSL_CERT_FILE.
func proxyCert(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "faultsuite"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(crand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, path
}

// TestFaultSuiteInbox: upload sets land in an S3 watch area between runs
// (one passing, one failing each time); `ghsync run` processes them with
// faults between it and S3, GitHub (issues), the callback server and the
// SMTP server (email for failing sets), including "the upstream acted, the
// client saw 502" and an SMTP reset after the message was accepted; every
// third round two invocations run at once. Invariant: no action is performed
// twice (at most one issue per set and no comment on it, at most one
// distinct callback body per set, at most one email per failing set); one
// clean run converges: every set's actions done exactly once.
func TestFaultSuiteInbox(t *testing.T) {
	rep := newReport(t, "inbox")
	ctx := context.Background()
	seed0 := suiteSeed(t)
	runs := suiteRuns(t, 8)
	work := t.TempDir()

	gh := githubtest.New(t, githubtest.Options{})
	gh.Token = "ghp_faultsuite"
	gh.AddRepo("acme", "data")
	cb := &callbackRecorder{}
	cbSrv := httptest.NewServer(cb)
	t.Cleanup(cbSrv.Close)
	mail := inboxtest.StartSMTP(t, "mailer", "mailpw")
	cert, caFile := proxyCert(t)
	upTLS := mail.ClientTLS.Clone()
	upTLS.ServerName = "127.0.0.1"

	watchURL := strings.Replace(s3test.Bucket(t), "/?", "/uploads/?", 1)
	finalURL := s3test.Bucket(t)
	endpoint := s3test.Endpoint(t)
	watch, err := store.Open(ctx, watchURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	files := map[string][]byte{}
	for _, f := range []string{"dc_districts.csv", "dc_stations.csv", "incomplete.csv"} {
		b, err := os.ReadFile(filepath.Join("..", "internal", "inbox", "testdata", "files", f))
		if err != nil {
			t.Fatal(err)
		}
		files[f] = b
	}
	type set struct {
		group   string
		passing bool
	}
	var sets []set
	n := 0
	upload := func() {
		for _, passing := range []bool{true, false} {
			n++
			s := set{group: fmt.Sprintf("E%08d", 7000000+n), passing: passing}
			prefix := s.group + "/2026-05-07/1700000000/"
			names := []string{"dc_districts.csv", "dc_stations.csv"}
			if !passing {
				names = []string{"incomplete.csv"}
			}
			for _, f := range names {
				if _, err := watch.Put(ctx, prefix+f, bytes.NewReader(files[f]), store.PutOptions{Size: int64(len(files[f]))}); err != nil {
					t.Fatal(err)
				}
			}
			sets = append(sets, s)
		}
	}

	cfgPath := filepath.Join(work, "ghsync.yaml")
	run := func(faulty bool, seed uint64, parallel int) []counter {
		rates := allFaults(0)
		smtpRates := faultproxy.Rates{}
		if faulty {
			rates = allFaults(.12)
			smtpRates = faultproxy.Rates{faultproxy.DropMidData: .15, faultproxy.ActedReset: .15}
		}
		ghp := startProxy(t, strings.TrimSuffix(gh.URL, "/"), faultproxy.Config{Seed: seed, Rates: rates, RetryAfter: "1"})
		s3p := startProxy(t, endpoint, faultproxy.Config{Seed: seed ^ 0x5eed, Rates: rates, RetryAfter: "1",
			ErrorBody: s3ErrorBody, ErrorType: "application/xml"})
		cbp := startProxy(t, cbSrv.URL, faultproxy.Config{Seed: seed ^ 0xcb, Rates: rates, RetryAfter: "1"})
		smp, err := faultproxy.NewSMTP(mail.Addr, faultproxy.SMTPConfig{Seed: seed ^ 0x5a, Rates: smtpRates,
			ServerTLS: &tls.Config{Certificates: []tls.Certificate{cert}}, UpstreamTLS: upTLS})
		if err != nil {
			t.Fatal(err)
		}
		yaml := `database: sqlite://` + filepath.Join(work, "ghsync.db") + `
github:
  token: ` + gh.Token + `
  api_url: ` + ghp.URL + `/
jobs:
  - name: uploads
    kind: inbox
    watch: '` + s3Via(t, watchURL, s3p.URL) + `'
    final: '` + s3Via(t, finalURL, s3p.URL) + `'
    github:
      repo: acme/data
    email:
      to: [errors@example.org]
      from: inbox@example.org
      via: smtp://mailer:mailpw@` + smp.Addr + `
    callback:
      url: ` + cbp.URL + `/api/upload/
      token: cbtoken
      attempts: 3
`
		if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		env := merge(awsEnv(), map[string]string{"SSL_CERT_FILE": caFile})
		var wg sync.WaitGroup
		for i := 0; i < parallel; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runBin(t, rep, faulty, work, env, "run", "uploads", "--config", cfgPath, "--json")
			}()
		}
		wg.Wait()
		ghp.Close()
		s3p.Close()
		cbp.Close()
		smp.Close()
		ps := []counter{ghp, s3p, cbp, smp}
		rep.addFaults(ps...)
		return ps
	}
	// check returns the actions performed more than once (and, when
	// complete, those not performed).
	check := func(complete bool) []string {
		var fails []string
		issues := gh.Issues("acme", "data")
		mails := mail.Mails()
		for _, s := range sets {
			var nIssues, nComments, nMails int
			for _, is := range issues {
				if strings.Contains(is.Title, s.group) {
					nIssues++
					nComments += len(is.Comments)
				}
			}
			// An email whose server answer was lost is sent again as the
			// same message (same Message-ID): one email, delivered twice,
			// as a callback with the same body is one callback.
			ids := map[string]bool{}
			for i, m := range mails {
				if strings.Contains(m.Subject, s.group) {
					id := mailMessageID(m.Raw)
					if id == "" {
						id = fmt.Sprintf("(no Message-ID #%d)", i)
					}
					ids[id] = true
				}
			}
			nMails = len(ids)
			nCallbacks := cb.distinct(s.group)
			if nIssues > 1 || nComments > 0 {
				fails = append(fails, fmt.Sprintf("set %s: %d issues, %d comments (want at most one issue, no comment)", s.group, nIssues, nComments))
			}
			if nMails > 1 {
				fails = append(fails, fmt.Sprintf("set %s: %d distinct emails (want at most one)", s.group, nMails))
			}
			if nCallbacks > 1 {
				fails = append(fails, fmt.Sprintf("set %s: %d distinct callbacks (want at most one)", s.group, nCallbacks))
			}
			if !complete {
				continue
			}
			wantIssues, wantMails := 1, 0
			if !s.passing {
				wantIssues, wantMails = 0, 1
			}
			// Too many is reported above; here what is missing.
			if nIssues < wantIssues || nMails < wantMails || nCallbacks < 1 || (wantIssues == 0 && nIssues > 0) || (wantMails == 0 && nMails > 0) {
				fails = append(fails, fmt.Sprintf("set %s (passing %v): %d issues, %d emails, %d callbacks after the clean run; want %d, %d, 1",
					s.group, s.passing, nIssues, nMails, nCallbacks, wantIssues, wantMails))
			}
		}
		return fails
	}
	reported := map[string]bool{} // a duplicate is reported by the run that made it
	for i := 0; i < runs; i++ {
		seed := seed0 + uint64(i)
		upload()
		parallel := 1
		if i%3 == 2 {
			parallel = 2 // two invocations at once, as two S3 events would start
		}
		ps := run(true, seed, parallel)
		var fresh []string
		for _, f := range check(false) {
			if !reported[f] {
				reported[f] = true
				fresh = append(fresh, f)
			}
		}
		for _, f := range fresh {
			rep.fail(t, "run %d (seed %d, %d at once): %s", i, seed, parallel, f)
		}
		if len(fresh) > 0 {
			logFaults(t, seed, ps...)
		}
	}
	run(false, 0, 1)
	for _, f := range check(true) {
		if !reported[f] {
			rep.fail(t, "after the clean run: %s", f)
		}
	}
}

// mailMessageID returns the Message-ID header of a received message ("" if
// it has none).
func mailMessageID(raw []byte) string {
	for _, l := range strings.Split(string(raw), "\r\n") {
		if l == "" {
			break
		}
		if v, ok := strings.CutPrefix(l, "Message-ID: "); ok {
			return v
		}
	}
	return ""
}
