package webhooks_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/webhooks"
)

const secret = "s3cret-for-tests"

type bundle struct {
	d   *db.DB
	svc *webhooks.Service
	srv *httptest.Server
	reg *prometheus.Registry
}

// setup migrates d and serves a Service on it; background processing is NOT
// started, tests drive it with process().
func setup(t *testing.T, d *db.DB, mod func(*webhooks.Config)) *bundle {
	t.Helper()
	if err := webhooks.Migrate(context.Background(), d); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	reg := prometheus.NewRegistry()
	cfg := webhooks.Config{DB: d, Secrets: []string{secret}, Registerer: reg, RetryBase: time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	svc, err := webhooks.New(cfg)
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(func() {
		srv.Close()
		svc.Close(context.Background())
	})
	return &bundle{d: d, svc: svc, srv: srv, reg: reg}
}

func sign(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// post sends a delivery signed with secret and returns the status code.
func (b *bundle) post(t *testing.T, event, id string, body []byte) int {
	t.Helper()
	return b.postWith(t, body, map[string]string{
		"X-GitHub-Event": event, "X-GitHub-Delivery": id, "X-Hub-Signature-256": sign(secret, body),
		"Content-Type": "application/json",
	})
}

func (b *bundle) postWith(t *testing.T, body []byte, hdr map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.srv.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// process runs processing until nothing is due.
func (b *bundle) process(t *testing.T) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		n, err := b.svc.ProcessPending(context.Background())
		if err != nil {
			t.Fatalf("process: %v", err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("processing never finished")
}

func (b *bundle) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := b.d.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (b *bundle) metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := b.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			if m.Counter != nil {
				return m.Counter.GetValue()
			}
		}
	}
	return 0
}

func jobPayload(repo string, id int64, status, startedAt, completedAt string) []byte {
	q := func(s string) string {
		if s == "" {
			return "null"
		}
		return `"` + s + `"`
	}
	concl := "null"
	if status == "completed" {
		concl = `"success"`
	}
	return []byte(fmt.Sprintf(`{"action":%q,"workflow_job":{"id":%d,"run_id":1,"status":%q,"conclusion":%s,"name":"build","head_sha":"abc","created_at":"2024-01-01T10:00:00Z","started_at":%s,"completed_at":%s},"repository":{"full_name":%q},"installation":{"id":42}}`,
		status, id, status, concl, q(startedAt), q(completedAt), repo))
}

func issuePayload(repo string, number int, action, state, title, updatedAt string) []byte {
	return []byte(fmt.Sprintf(`{"action":%q,"issue":{"id":%d,"number":%d,"state":%q,"title":%q,"created_at":"2024-01-01T00:00:00Z","updated_at":%q},"repository":{"full_name":%q}}`,
		action, 1000+number, number, state, title, updatedAt, repo))
}
