package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
)

// startServe runs the built `ghsync serve` in dir on addr with env until
// the test ends (stopped by SIGTERM).
func startServe(t *testing.T, dir, addr string, env map[string]string, args ...string) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logf, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("serve log:\n%s", b)
		}
	})
	waitFor(t, "serve ready", func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// waitFor polls cond every 100ms for up to 30s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// `ghsync webhooks send` signs a built-in example with the configured secret
// and POSTs it to serve (which stores and projects it); a wrong secret is
// the endpoint's 401 and exit 1. `ghsync events replay` queues a stored
// delivery again and serve projects it anew (its projection row, removed,
// comes back).
func TestWebhooksSendAndEventsReplay(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	dbURL := "sqlite://" + filepath.Join(dir, "ghsync.db")
	writeTree(t, dir, map[string]string{"ghsync.yaml": "database: " + dbURL + "\nwebhooks:\n  secrets: ['${HOOK_SECRET}']\n"})
	env := map[string]string{"HOOK_SECRET": "s3cret"}
	startServe(t, dir, addr, env)
	url := "http://" + addr + "/api/github/webhooks"

	r := exe(t, dir, env, "webhooks", "send", "issues", "--action", "closed", "--url", url, "--json")
	var sent struct {
		Delivery string `json:"delivery"`
		Status   int    `json:"status"`
		Signed   bool   `json:"signed"`
		Action   string `json:"action"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sent); err != nil || r.code != 0 || sent.Status/100 != 2 || !sent.Signed || sent.Action != "closed" {
		t.Fatalf("webhooks send: exit %d, %+v (%v)\nstdout %s\nstderr %s", r.code, sent, err, r.stdout, r.stderr)
	}
	issueRow := func() bool {
		l := exe(t, dir, env, "events", "list", "issues", "--json")
		return l.code == 0 && strings.Contains(l.stdout, `"acme/app`) && strings.Contains(l.stdout, sent.Delivery)
	}
	waitFor(t, "the issues projection", issueRow)

	wrong := exe(t, dir, map[string]string{"HOOK_SECRET": "not-it"}, "webhooks", "send", "push", "--url", url)
	if wrong.code != 1 || !strings.Contains(wrong.stdout+wrong.stderr, "401") {
		t.Errorf("send with the wrong secret: exit %d\n%s%s", wrong.code, wrong.stdout, wrong.stderr)
	}

	// Remove the projection row behind serve's back, then replay.
	d, err := db.Open(context.Background(), dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(context.Background(), "DELETE FROM issues"); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if issueRow() {
		t.Fatal("the row is still there")
	}
	r = exe(t, dir, env, "events", "replay", sent.Delivery)
	if r.code != 0 || !strings.Contains(r.stdout, "queued") {
		t.Fatalf("events replay: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	waitFor(t, "the replayed projection", issueRow)

	if r := exe(t, dir, env, "events", "replay", "no-such-delivery"); r.code != 2 || !strings.Contains(r.stderr, "no such delivery") {
		t.Errorf("replay of an unknown delivery: exit %d %s", r.code, r.stderr)
	}
}
