package jobs

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// slackRecorder is a Slack incoming-webhook stand-in that records messages.
type slackRecorder struct {
	mu   sync.Mutex
	msgs []string
	srv  *httptest.Server
}

func newSlack(t *testing.T, status int) *slackRecorder {
	r := &slackRecorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body struct{ Text string }
		data, _ := io.ReadAll(req.Body)
		json.Unmarshal(data, &body)
		r.mu.Lock()
		r.msgs = append(r.msgs, body.Text)
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *slackRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.msgs
	r.msgs = nil
	return m
}

func runner(t *testing.T, yaml string, env map[string]string) *Runner {
	t.Helper()
	cfg, err := ParseConfig([]byte(yaml), "test.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	// Retries keep their number of attempts; only the pauses are short.
	return &Runner{Config: cfg, Logger: slog.New(slog.DiscardHandler), Getenv: func(k string) string { return env[k] },
		GitHubRetryBase: time.Millisecond}
}

func TestRepoJobAlerts(t *testing.T) {
	slack := newSlack(t, 200)
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("A"), 0o644)
	cfg := `
alerts:
  slack_webhook_url: ${SLACK}
jobs:
  - name: site
    kind: repo
    source: dir:` + src + `
    dest: mem://alerts-test/
  - name: broken
    kind: repo
    source: github:acme/none
    dest: mem://alerts-broken/
`
	r := runner(t, cfg, map[string]string{"SLACK": slack.srv.URL, "GITHUB_API_URL": "http://127.0.0.1:1/"})
	ctx := context.Background()
	res, err := r.Run(ctx, "site", RunOptions{})
	if err != nil || !res.Changed {
		t.Fatalf("run: %v %+v", err, res)
	}
	msgs := slack.take()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "1 new") || !strings.Contains(msgs[0], "a.txt") {
		t.Fatalf("change alert: %q", msgs)
	}
	if _, err := r.Run(ctx, "site", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if msgs := slack.take(); len(msgs) != 0 {
		t.Fatalf("alert sent although nothing changed: %q", msgs)
	}
	if _, err := r.Run(ctx, "site", RunOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	r.Config.GitHub.APIURL = "http://127.0.0.1:1/" // nothing listens there
	if _, err := r.Run(ctx, "broken", RunOptions{}); err == nil {
		t.Fatal("broken job succeeded")
	}
	if msgs := slack.take(); len(msgs) != 1 || !strings.Contains(msgs[0], "broken") || !strings.Contains(msgs[0], "failed") {
		t.Fatalf("error alert: %q", msgs)
	}
}

func TestFailingAlertSenderNeverFailsTheJob(t *testing.T) {
	slack := newSlack(t, 500)
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("A"), 0o644)
	r := runner(t, `
alerts:
  slack_webhook_url: ${SLACK}
jobs:
  - name: site
    kind: repo
    source: dir:`+src+`
    dest: mem://alerts-500/
`, map[string]string{"SLACK": slack.srv.URL})
	if _, err := r.Run(context.Background(), "site", RunOptions{}); err != nil {
		t.Fatalf("job failed because the alert failed: %v", err)
	}
	if len(slack.take()) != 1 {
		t.Fatal("alert was not attempted")
	}
}
