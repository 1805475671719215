package webhooks_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/webhooks"
)

func TestSignatures(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, nil)
		body := issuePayload("o/r", 1, "opened", "open", "t", "2024-01-01T00:00:00Z")
		base := func(sig map[string]string) map[string]string {
			h := map[string]string{"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-sig", "Content-Type": "application/json"}
			for k, v := range sig {
				h[k] = v
			}
			return h
		}
		sha1sig := func() string { // a correct SHA-1 signature: must still be refused
			return "sha1=" + strings.TrimPrefix(sign(secret, body), "sha256=")[:40]
		}
		cases := []struct {
			name string
			body []byte
			hdr  map[string]string
		}{
			{"missing", body, base(nil)},
			{"wrong", body, base(map[string]string{"X-Hub-Signature-256": "sha256=" + strings.Repeat("0", 64)})},
			{"garbage", body, base(map[string]string{"X-Hub-Signature-256": "nonsense"})},
			{"sha1-only", body, base(map[string]string{"X-Hub-Signature": sha1sig()})},
			{"sha1-in-256-header", body, base(map[string]string{"X-Hub-Signature-256": sha1sig()})},
			{"wrong-secret", body, base(map[string]string{"X-Hub-Signature-256": sign("other", body)})},
			{"truncated-body", body[:len(body)-5], base(map[string]string{"X-Hub-Signature-256": sign(secret, body)})},
			{"bad-sig-and-no-headers", body, map[string]string{"X-Hub-Signature-256": sign("other", body)}},
		}
		for _, c := range cases {
			if got := b.postWith(t, c.body, c.hdr); got != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401", c.name, got)
			}
		}
		if n := b.count(t, "SELECT COUNT(*) FROM deliveries"); n != 0 {
			t.Fatalf("%d deliveries stored after refused requests", n)
		}
		if got := b.metric(t, "ghsync_webhook_deliveries_total", map[string]string{"outcome": "unauthorized", "event": "issues"}); got != float64(len(cases)-1) {
			t.Errorf("unauthorized metric = %v", got)
		}
		if got := b.post(t, "issues", "d-ok", body); got != http.StatusAccepted {
			t.Fatalf("valid signature: %d", got)
		}
	})
}

func TestSecretRotation(t *testing.T) {
	b := setup(t, dbtest.SQLite(t), func(c *webhooks.Config) { c.Secrets = []string{"old", "new"} })
	body := []byte(`{"zen":"hi"}`)
	for i, key := range []string{"old", "new"} {
		code := b.postWith(t, body, map[string]string{"X-GitHub-Event": "ping", "X-GitHub-Delivery": "rot-" + key, "X-Hub-Signature-256": sign(key, body)})
		if code != http.StatusOK {
			t.Fatalf("secret %d (%s): status %d", i, key, code)
		}
	}
	if code := b.postWith(t, body, map[string]string{"X-GitHub-Event": "ping", "X-GitHub-Delivery": "rot-x", "X-Hub-Signature-256": sign("retired", body)}); code != 401 {
		t.Fatalf("retired secret accepted: %d", code)
	}
	if n := b.count(t, "SELECT COUNT(*) FROM deliveries"); n != 2 {
		t.Fatalf("deliveries = %d, want 2", n)
	}
}

func TestNoSecretRefused(t *testing.T) {
	d := dbtest.SQLite(t)
	if _, err := webhooks.New(webhooks.Config{DB: d, Secrets: []string{""}}); err == nil {
		t.Fatal("New without a secret succeeded")
	}
	b := setup(t, d, func(c *webhooks.Config) { c.Secrets = nil; c.InsecureNoSignature = true })
	if code := b.postWith(t, []byte(`{}`), map[string]string{"X-GitHub-Event": "star", "X-GitHub-Delivery": "u1"}); code != http.StatusAccepted {
		t.Fatalf("insecure mode: %d", code)
	}
}

func TestBadRequests(t *testing.T) {
	b := setup(t, dbtest.SQLite(t), func(c *webhooks.Config) { c.MaxBodyBytes = 1 << 10 })
	good := []byte(`{"action":"created"}`)
	signed := func(body []byte, hdr map[string]string) int {
		hdr["X-Hub-Signature-256"] = sign(secret, body)
		return b.postWith(t, body, hdr)
	}
	if c := signed(good, map[string]string{"X-GitHub-Delivery": "x"}); c != 400 {
		t.Errorf("missing event: %d", c)
	}
	if c := signed(good, map[string]string{"X-GitHub-Event": "star"}); c != 400 {
		t.Errorf("missing delivery: %d", c)
	}
	for _, bad := range []string{`{"a":`, `[1,2]`, `null`, ``, `{"a":1} trailing`} {
		if c := signed([]byte(bad), map[string]string{"X-GitHub-Event": "star", "X-GitHub-Delivery": "x"}); c != 400 {
			t.Errorf("body %q: %d", bad, c)
		}
	}
	big := append([]byte(`{"pad":"`), bytes.Repeat([]byte("a"), 2<<10)...)
	big = append(big, `"}`...)
	if c := signed(big, map[string]string{"X-GitHub-Event": "star", "X-GitHub-Delivery": "big"}); c != http.StatusRequestEntityTooLarge {
		t.Errorf("big body: %d", c)
	}
	resp, err := b.srv.Client().Get(b.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	if n := b.count(t, "SELECT COUNT(*) FROM deliveries"); n != 0 {
		t.Fatalf("%d deliveries stored after bad requests", n)
	}
	// Form-encoded deliveries (GitHub's other content type) are accepted.
	form := []byte("payload=" + url.QueryEscape(`{"action":"started","repository":{"full_name":"o/r"}}`))
	if c := signed(form, map[string]string{"X-GitHub-Event": "watch", "X-GitHub-Delivery": "form1", "Content-Type": "application/x-www-form-urlencoded"}); c != 202 {
		t.Fatalf("form body: %d", c)
	}
	page, err := webhooks.QueryDeliveries(context.Background(), b.d, webhooks.DeliveryQuery{})
	if err != nil || len(page.Deliveries) != 1 || page.Deliveries[0].Repo != "o/r" || page.Deliveries[0].Action != "started" {
		t.Fatalf("form delivery stored as %+v, %v", page, err)
	}
}

func TestIdempotentDelivery(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d, nil)
		body := jobPayload("o/r", 7, "completed", "2024-01-01T10:01:00Z", "2024-01-01T10:05:00Z")
		codes := []int{}
		for i := 0; i < 5; i++ {
			codes = append(codes, b.post(t, "workflow_job", "same-id", body))
			b.process(t)
		}
		if codes[0] != 202 || codes[1] != 200 || codes[4] != 200 {
			t.Fatalf("codes = %v, want 202 then 200s", codes)
		}
		if n := b.count(t, "SELECT COUNT(*) FROM deliveries WHERE delivery_id = ?", "same-id"); n != 1 {
			t.Fatalf("deliveries = %d", n)
		}
		if n := b.count(t, "SELECT revision FROM workflow_job WHERE key = ?", "o/r/7"); n != 1 {
			t.Fatalf("projection revision = %d, want 1 (one update)", n)
		}
		if got := b.metric(t, "ghsync_webhook_projection_updates_total", map[string]string{"table": "workflow_job"}); got != 1 {
			t.Fatalf("projection updates metric = %v", got)
		}
		if got := b.metric(t, "ghsync_webhook_deliveries_total", map[string]string{"outcome": "duplicate"}); got != 4 {
			t.Fatalf("duplicate metric = %v", got)
		}
	})
}

func TestConcurrentDuplicates(t *testing.T) {
	b := setup(t, dbtest.SQLite(t), nil)
	body := jobPayload("o/r", 8, "queued", "", "")
	done := make(chan int, 20)
	for i := 0; i < 20; i++ {
		go func() { done <- b.post(t, "workflow_job", "dup-race", body) }()
	}
	accepted := 0
	for i := 0; i < 20; i++ {
		switch c := <-done; c {
		case 202:
			accepted++
		case 200:
		default:
			t.Errorf("status %d", c)
		}
	}
	if accepted != 1 {
		t.Fatalf("%d requests answered as new, want 1", accepted)
	}
}
