package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/cli"
)

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serve verb wiring: secret from GHSYNC_WEBHOOK_SECRET, database flag, a
// signed delivery stored, graceful shutdown, then read back by `events`.
func TestServeAndEventsVerbs(t *testing.T) {
	addr := freeAddr(t)
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "ghsync.db")
	env := map[string]string{"GHSYNC_WEBHOOK_SECRET": "topsecret"}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"serve", "--addr", addr, "--database", dbURL, "--config", "/dev/null"},
			cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server not ready: %v\n%s", err, errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	body := []byte(`{"action":"opened","issue":{"id":1,"number":7,"state":"open","updated_at":"2026-01-01T00:00:00Z","title":"x"},"repository":{"full_name":"acme/app","id":9}}`)
	mac := hmac.New(sha256.New, []byte("topsecret"))
	mac.Write(body)
	post := func(sig string) int {
		req, _ := http.NewRequest("POST", "http://"+addr+"/api/github/webhooks", bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", "issues")
		req.Header.Set("X-GitHub-Delivery", "11111111-2222-3333-4444-555555555555")
		req.Header.Set("X-Hub-Signature-256", sig)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("sha256=" + hex.EncodeToString(mac.Sum(nil))); code/100 != 2 {
		t.Fatalf("signed delivery: %d", code)
	}
	if code := post("sha256=" + strings.Repeat("0", 64)); code != 401 {
		t.Fatalf("bad signature: %d", code)
	}
	checkWebhookPathAnswers(t, addr)
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
	r := ghsync(t, map[string]string{}, "events", "deliveries", "--database", dbURL, "--config", "/dev/null", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, "11111111-2222-3333-4444-555555555555") || strings.Count(r.stdout, `"delivery_id"`) != 1 {
		t.Fatalf("events deliveries: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := ghsync(t, map[string]string{}, "events", "list", "nope", "--database", dbURL, "--config", "/dev/null"); r.code != 2 {
		t.Fatalf("unknown table: exit %d %s", r.code, r.stderr)
	}
	if strings.Contains(errb.String()+out.String(), "topsecret") {
		t.Fatal("the webhook secret was logged")
	}
}

// checkWebhookPathAnswers: a GET on the webhook path is 405 with Allow: POST
// (not the UI's HTML 404), and a body over the limit is 413 stating it.
func checkWebhookPathAnswers(t *testing.T, addr string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/github/webhooks")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" || !strings.Contains(string(body), "POST") {
		t.Errorf("GET webhook path: %d Allow=%q %s", resp.StatusCode, resp.Header.Get("Allow"), body)
	}
	// Announce a body just over 25 MB; the server answers from the headers.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /api/github/webhooks HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: big\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 25<<20+1)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(r.Body)
	if r.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "25 MB") {
		t.Errorf("oversized delivery: %d %s", r.StatusCode, body)
	}
}
