package lambda

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/jobs"
)

// TestHTTPEventDownloadsJobLog: a workflow_job completed delivery arriving
// as a Function URL event is stored, projected, and its log downloaded and
// classified by the same invocation path (Handler.Invoke), with the GitHub
// token never sent to the blob host.
func TestHTTPEventDownloadsJobLog(t *testing.T) {
	const token = "ghp_lambda_token_not_for_blobs"
	gh := githubtest.New(t, githubtest.Options{})
	gh.Token = token
	gh.AddRepo("acme", "app")
	leaks := make(chan string, 10)
	logText := "2024-05-01T10:00:00.0000000Z + pytest\nFAILED test/x.py::test_y - boom\n"
	blob := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || strings.Contains(r.URL.RawQuery, token) {
			leaks <- r.Header.Get("Authorization")
		}
		io.WriteString(w, logText)
	}))
	defer blob.Close()
	gh.SetJobLogURL("acme", "app", 77, blob.URL+"/logs/77?sig=x")
	dir := t.TempDir()
	yml := `database: sqlite://` + dir + `/hooks.db
github:
  token: ${GH_TOKEN}
  api_url: ` + gh.URL + `
webhooks:
  secrets: ["${HOOK_SECRET}"]
  logs:
    download: all
    dest: file://` + dir + `/ci/
`
	env := map[string]string{"GH_TOKEN": token, "HOOK_SECRET": testSecret}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Parse([]byte(yml), "GHSYNC_CONFIG_YAML", getenv, jobs.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	h := New(cfg, nil, getenv)
	defer h.Close(context.Background())
	body := `{"action":"completed","workflow_job":{"id":77,"run_id":1,"status":"completed","conclusion":"failure","name":"test","head_sha":"abc",` +
		`"started_at":"2024-05-01T10:00:00Z","completed_at":"2024-05-01T10:05:00Z"},"repository":{"full_name":"acme/app"}}`
	payload := signedHookEvent("workflow_job", "d-77", body)
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		StatusCode int `json:"statusCode"`
	}
	if json.Unmarshal(out, &res); res.StatusCode != 202 {
		t.Fatalf("response %s", out)
	}
	// The invocation works the download off before it returns (RunOnce);
	// the background downloader may have claimed it first, so allow it to
	// finish.
	key := filepath.Join(dir, "ci", "log", "acme", "app", "77")
	var data []byte
	for deadline := time.Now().Add(20 * time.Second); ; {
		if data, err = os.ReadFile(key); err == nil {
			if _, err = os.Stat(key + ".classification.json"); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("log not stored: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(zr); string(got) != logText {
		t.Errorf("stored %q", got)
	}
	cls, _ := os.ReadFile(key + ".classification.json")
	if !strings.Contains(string(cls), `"line_num":2`) {
		t.Errorf("classification %s", cls)
	}
	select {
	case l := <-leaks:
		t.Errorf("blob host received credentials: %q", l)
	default:
	}
}

// signedHookEvent is a Function URL event posting body as a GitHub delivery
// of event with delivery id, signed with testSecret.
func signedHookEvent(event, delivery, body string) []byte {
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(body))
	ev := map[string]any{"version": "2.0", "rawPath": "/api/github/webhooks", "body": body,
		"headers": map[string]string{"content-type": "application/json", "x-github-event": event, "x-github-delivery": delivery,
			"x-hub-signature-256": "sha256=" + hex.EncodeToString(m.Sum(nil))},
		"requestContext": map[string]any{"http": map[string]any{"method": "POST", "sourceIp": "192.0.2.1"}}}
	payload, _ := json.Marshal(ev)
	return payload
}
