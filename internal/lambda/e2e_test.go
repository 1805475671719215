package lambda

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/testkit"

	"github.com/ghsync/ghsync/internal/githubtest"
)

// buildBootstrap returns the ghsync binary (built once per test process
// by testkit, with the same settings as every other test); the Lambda
// runtime starts it as bootstrap.
func buildBootstrap(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the ghsync binary; skipped with -short")
	}
	return testkit.Ghsync(t)
}

// startFunction runs bootstrap against api with exactly env (plus the Runtime
// API address) and returns its stderr buffer and a wait function.
func startFunction(t *testing.T, api *runtimeAPI, env map[string]string) (*syncBuffer, *exec.Cmd) {
	t.Helper()
	bin := buildBootstrap(t)
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + api.addr, "PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		if t.Failed() {
			t.Logf("function logs:\n%s", logs.String())
		}
	})
	return logs, cmd
}

// syncBuffer collects a child process's output.
type syncBuffer = testkit.SyncBuffer

const testSecret = "lambda-test-webhook-secret"

// TestBootstrapEventShapes runs the built binary as a Lambda function against
// the test Runtime API and sends it every event shape it handles.
func TestBootstrapEventShapes(t *testing.T) {
	gh := githubtest.New(t, githubtest.Options{})
	gh.Token = "tok"
	repo := gh.AddRepo("acme", "app")
	repo.CommitInfo("main", githubtest.CommitInfo{Message: "one", AuthorLogin: "dev",
		Suites: []githubtest.CheckSuite{{Workflow: "CI", Runs: []githubtest.CheckRun{{Name: "build", Conclusion: "SUCCESS"}}}}})

	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(filepath.Join(src, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"index.html": "<h1>hi</h1>", "docs/a.txt": "a"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := `
database: sqlite://` + dir + `/hooks.db
webhooks:
  secrets: ["${HOOK_SECRET}"]
jobs:
  - name: site
    kind: repo
    schedule: rate(5 minutes)
    source: dir:` + src + `
    dest: file://` + dir + `/out/site/
  - name: hud
    kind: statuses
    repo: acme/app
    branches: [main]
    dest: file://` + dir + `/hud/
`
	api := newRuntimeAPI(t)
	startFunction(t, api, map[string]string{
		"GHSYNC_CONFIG_YAML": cfg, "HOOK_SECRET": testSecret,
		"GITHUB_TOKEN": "tok", "GITHUB_API_URL": gh.URL, "HOME": dir,
	})

	ok := func(t *testing.T, payload string) Response {
		t.Helper()
		r := api.invoke(payload)
		if !r.OK {
			t.Fatalf("invocation failed: %s", r.Body)
		}
		var resp Response
		if err := json.Unmarshal(r.Body, &resp); err != nil {
			t.Fatalf("response %s: %v", r.Body, err)
		}
		return resp
	}
	fails := func(t *testing.T, payload, wantType, wantMsg string) {
		t.Helper()
		r := api.invoke(payload)
		if r.OK {
			t.Fatalf("invocation succeeded, want %s error: %s", wantType, r.Body)
		}
		typ, msg := r.errorDoc(t)
		if typ != wantType || !strings.Contains(msg, wantMsg) {
			t.Fatalf("error = %s %q, want %s containing %q", typ, msg, wantType, wantMsg)
		}
	}
	siteFile := filepath.Join(dir, "out", "site", "index.html")

	t.Run("direct dry run", func(t *testing.T) {
		resp := ok(t, `{"job":"site","dry_run":true}`)
		if resp.Job != "site" || resp.Kind != "repo" || !resp.DryRun || resp.Via != "direct" {
			t.Errorf("response %+v", resp)
		}
		if _, err := os.Stat(siteFile); !os.IsNotExist(err) {
			t.Errorf("dry run wrote %s (stat err %v)", siteFile, err)
		}
	})
	t.Run("scheduler input", func(t *testing.T) {
		resp := ok(t, `{"job":"site"}`)
		if !resp.Changed || resp.DryRun {
			t.Errorf("first real run: %+v", resp)
		}
		if b, err := os.ReadFile(siteFile); err != nil || string(b) != "<h1>hi</h1>" {
			t.Errorf("synced file: %q, %v", b, err)
		}
	})
	t.Run("eventbridge detail", func(t *testing.T) {
		resp := ok(t, `{"version":"0","id":"e1","detail-type":"ghsync","source":"custom.ghsync","account":"123456789012",
			"time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{"job":"site"}}`)
		if resp.Job != "site" || resp.Changed || resp.Via != "eventbridge" {
			t.Errorf("unchanged rerun via EventBridge: %+v", resp)
		}
	})
	t.Run("legacy status input", func(t *testing.T) {
		resp := ok(t, `{"branches": "main", "user": "acme", "repo": "app", "history_size": 5}`)
		if resp.Kind != "statuses" || resp.Job != "hud" || !resp.Changed {
			t.Errorf("legacy response %+v", resp)
		}
		matches, _ := filepath.Glob(filepath.Join(dir, "hud", "*"))
		if len(matches) == 0 {
			t.Errorf("no snapshot written under %s/hud", dir)
		}
	})
	t.Run("s3 event for an unwatched bucket", func(t *testing.T) {
		fails(t, `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"other"},"object":{"key":"k"}}}]}`,
			ErrTypeConfig, `S3 event for s3://other/k: no job in GHSYNC_CONFIG_YAML watches that bucket and prefix`)
	})
	t.Run("unknown job", func(t *testing.T) {
		fails(t, `{"job":"nope"}`, ErrTypeConfig, `no job named "nope"`)
	})
	t.Run("not an object", func(t *testing.T) {
		fails(t, `[1,2]`, ErrTypeBadEvent, "not a JSON object")
	})

	body := `{"zen":"Design for failure.","hook_id":1,"hook":{"type":"Repository","id":1,"active":true,"events":["push"],"config":{}}}`
	t.Run("function url webhook", func(t *testing.T) {
		r := httpEvent(t, api, "POST", "/api/github/webhooks", body, sign(body, testSecret), "d-1")
		if r.StatusCode != 200 && r.StatusCode != 202 {
			t.Fatalf("webhook status %d: %s", r.StatusCode, r.Body)
		}
		if !strings.Contains(r.Body, "d-1") {
			t.Errorf("webhook reply lacks the delivery id: %s", r.Body)
		}
	})
	t.Run("http api bad signature", func(t *testing.T) {
		r := httpEvent(t, api, "POST", "/api/github/webhooks", body, sign(body, "wrong"), "d-2")
		if r.StatusCode != 401 {
			t.Fatalf("bad signature: status %d: %s", r.StatusCode, r.Body)
		}
	})
	t.Run("stored, and not readable through the URL", func(t *testing.T) {
		if ids := storedDeliveries(t, "sqlite://"+dir+"/hooks.db"); len(ids) != 1 || ids[0] != "d-1" {
			t.Errorf("stored deliveries %v, want [d-1]", ids)
		}
		r := httpEvent(t, api, "GET", "/api/deliveries", "", "", "")
		if r.StatusCode != 404 || strings.Contains(r.Body, "d-1") {
			t.Fatalf("GET /api/deliveries: status %d: %s", r.StatusCode, r.Body)
		}
	})
}

type httpResult struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// httpEvent sends a payload-2.0 HTTP event (the Function URL format); sig,
// when set, makes it a signed GitHub ping delivery.
func httpEvent(t *testing.T, api *runtimeAPI, method, path, body, sig, delivery string) httpResult {
	t.Helper()
	headers := map[string]string{"content-type": "application/json", "user-agent": "GitHub-Hookshot/abc"}
	if sig != "" {
		headers["x-hub-signature-256"] = sig
		headers["x-github-event"] = "ping"
		headers["x-github-delivery"] = delivery
	}
	return functionURLEvent(t, api, method, path, headers, body)
}

// functionURLEvent sends a payload-2.0 HTTP event for method and target (a
// path, with an optional ?query) carrying exactly headers and body, and
// returns the function's HTTP answer.
func functionURLEvent(t *testing.T, api *runtimeAPI, method, target string, headers map[string]string, body string) httpResult {
	t.Helper()
	path, query, _ := strings.Cut(target, "?")
	ev := map[string]any{
		"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query, "headers": headers,
		"requestContext": map[string]any{"accountId": "anonymous", "apiId": "abc", "domainName": "abc.lambda-url.us-east-1.on.aws",
			"http":      map[string]any{"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": headers["user-agent"]},
			"requestId": "r", "routeKey": "$default", "stage": "$default", "time": time.Now().Format(time.RFC3339), "timeEpoch": time.Now().UnixMilli()},
		"body": body, "isBase64Encoded": false,
	}
	payload, _ := json.Marshal(ev)
	r := api.invoke(string(payload))
	if !r.OK {
		t.Fatalf("HTTP event %s %s failed: %s", method, target, r.Body)
	}
	var out httpResult
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("HTTP response %s: %v", r.Body, err)
	}
	return out
}

func sign(body, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// TestBootstrapInitError checks that a bad configuration is reported through
// the Runtime API's init error endpoint and the process exits.
func TestBootstrapInitError(t *testing.T) {
	api := newRuntimeAPI(t)
	_, cmd := startFunction(t, api, map[string]string{"GHSYNC_CONFIG_YAML": "jobs:\n  - name: x\n    kind: nonsense\n"})
	select {
	case r := <-api.initErr:
		typ, msg := r.errorDoc(t)
		if typ != ErrTypeConfig || !strings.Contains(msg, "GHSYNC_CONFIG_YAML") || !strings.Contains(msg, "kind") {
			t.Errorf("init error %s %q", typ, msg)
		}
		if r.ErrorType != "Runtime."+ErrTypeConfig {
			t.Errorf("Lambda-Runtime-Function-Error-Type = %q", r.ErrorType)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no init error posted")
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("exit: %v, want status 2", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("process did not exit after the init error")
	}
}
