package serve_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/serve"
)

const secret = "serve-test-secret"

func sign(body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func postDelivery(client *http.Client, base, event, id string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/api/github/webhooks", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", sign(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func jobBody(id int) []byte {
	return []byte(fmt.Sprintf(`{"action":"completed","workflow_job":{"id":%d,"status":"completed","conclusion":"failure","name":"test","head_sha":"abc","started_at":"2024-05-01T10:00:00Z","completed_at":"2024-05-01T10:03:00Z"},"repository":{"full_name":"octo/repo"}}`, id))
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeEndToEnd(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			dbURL := ""
			if dialect == "sqlite" {
				dbURL = dbtest.SQLiteURL(t)
			} else {
				dbURL = dbtest.PostgresURL(t)
			}
			archiveDir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv, err := serve.New(ctx, serve.Options{DatabaseURL: dbURL, Secrets: []string{secret},
				ArchiveDest: "file://" + archiveDir + "?prefix=hooks", ArchiveBatchAge: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			extra := false
			srv.Handle("GET /extra", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { extra = true }))
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			base := "http://" + ln.Addr().String()
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx, ln) }()

			for i := 1; i <= 3; i++ {
				if code, err := postDelivery(http.DefaultClient, base, "workflow_job", fmt.Sprintf("e2e-%d", i), jobBody(i)); err != nil || code != 202 {
					t.Fatalf("post: %d %v", code, err)
				}
			}
			if code, body := get(t, base+"/healthz"); code != 200 {
				t.Fatalf("healthz %d %s", code, body)
			}
			if code, body := get(t, base+"/readyz"); code != 200 {
				t.Fatalf("readyz %d %s", code, body)
			}
			get(t, base+"/extra")
			if !extra {
				t.Fatal("handler mounted with Handle not reached")
			}
			// Processing happens in the background.
			deadline := time.Now().Add(10 * time.Second)
			for {
				code, body := get(t, base+"/api/events/workflow_job?repo=octo/repo&status=completed&limit=2")
				var page struct {
					Rows []struct {
						Key string `json:"key"`
					} `json:"rows"`
					NextCursor string `json:"next_cursor"`
				}
				json.Unmarshal([]byte(body), &page)
				if code == 200 && len(page.Rows) == 2 && page.NextCursor != "" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("events never appeared: %d %s", code, body)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if code, body := get(t, base+"/api/deliveries?event=workflow_job&since=1h"); code != 200 || strings.Count(body, `"delivery_id"`) != 3 {
				t.Fatalf("deliveries: %d %s", code, body)
			}
			if code, _ := get(t, base+"/api/events/not_a_table"); code != 400 {
				t.Fatalf("unknown table: %d", code)
			}
			if code, _ := get(t, base+"/api/deliveries?since=yesterday"); code != 400 {
				t.Fatalf("bad since: %d", code)
			}
			_, metrics := get(t, base+"/metrics")
			for _, want := range []string{
				`ghsync_webhook_deliveries_total{event="workflow_job",outcome="stored"} 3`,
				"ghsync_webhook_processing_lag_seconds_count 3",
				`ghsync_http_request_duration_seconds_count{code="202",route="POST /api/github/webhooks"} 3`,
			} {
				if !strings.Contains(metrics, want) {
					t.Errorf("metrics lack %q", want)
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Serve: %v", err)
			}
			// Shutdown flushed the archive (batch age was an hour).
			var parts []string
			filepath.Walk(archiveDir, func(p string, info os.FileInfo, err error) error {
				if err == nil && strings.HasSuffix(p, ".ndjson.gz") {
					parts = append(parts, p)
				}
				return nil
			})
			if len(parts) != 1 || !strings.Contains(parts[0], filepath.Join("hooks", "raw", "event=workflow_job", "date=")) {
				t.Fatalf("archive after shutdown: %v", parts)
			}
		})
	}
}

// Without a secret the server runs, but its webhook endpoint refuses
// deliveries (503) and stores nothing.
func TestWebhookEndpointDisabledWithoutSecret(t *testing.T) {
	srv, err := serve.New(context.Background(), serve.Options{DatabaseURL: dbtest.SQLiteURL(t)})
	if err != nil {
		t.Fatalf("New without secret: %v", err)
	}
	defer srv.Close()
	h := srv.Handler()
	req := httptest.NewRequest("POST", "/api/github/webhooks", strings.NewReader(`{"zen":"x"}`))
	req.Header.Set("X-GitHub-Event", "ping")
	req.Header.Set("X-GitHub-Delivery", "no-secret-1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "secret") {
		t.Fatalf("webhook without secret: %d %s", rec.Code, rec.Body.String())
	}
	var n int
	if err := srv.DB().QueryRow(context.Background(), "SELECT COUNT(*) FROM deliveries").Scan(&n); err != nil || n != 0 {
		t.Fatalf("deliveries stored: %d %v", n, err)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 {
		t.Fatalf("healthz: %d", rec.Code)
	}
}
