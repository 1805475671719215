package jobs

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestInboxJobGivesUpVisibly: a callback that always fails is tried by
// max_attempts runs (each an error, alerted), then the set is given up on:
// the next run succeeds, says so in its text and summary, and alerts nothing.
func TestInboxJobGivesUpVisibly(t *testing.T) {
	var calls atomic.Int32
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer cb.Close()
	slack := newSlack(t, 200)
	dir := t.TempDir()
	set := filepath.Join(dir, "uploads", "E07000223", "2026-05-07", "1700000000")
	if err := os.MkdirAll(set, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "inbox", "testdata", "files", "incomplete.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(set, "f.csv"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runner(t, `
database: sqlite://`+dir+`/ghsync.db
alerts:
  slack_webhook_url: ${SLACK}
jobs:
  - name: uploads
    kind: inbox
    watch: file://`+dir+`/uploads/
    max_attempts: 2
    callback:
      url: `+cb.URL+`/uploads/
      token: t0ken
      attempts: 1
`, map[string]string{"SLACK": slack.srv.URL})
	ctx := context.Background()
	for i := 1; i <= 2; i++ {
		if _, err := r.Run(ctx, "uploads", RunOptions{}); err == nil {
			t.Fatalf("run %d: no error for a failed callback", i)
		}
	}
	if n := len(slack.take()); n != 2 {
		t.Errorf("alerts = %d; want one error alert per failing run", n)
	}
	res, err := r.Run(ctx, "uploads", RunOptions{})
	if err != nil {
		t.Fatalf("run after giving up: %v", err)
	}
	var text bytes.Buffer
	res.WriteText(&text)
	if want := "1 unchanged set(s) with failed actions given up on after 2 attempts (run --key to retry): E07000223/2026-05-07/1700000000/"; !strings.Contains(text.String(), want) {
		t.Errorf("text lacks %q:\n%s", want, text.String())
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("callback requests = %d; want 2 (one per attempt)", n)
	}
	if msgs := slack.take(); len(msgs) != 0 {
		t.Errorf("alerts after giving up: %q", msgs)
	}
}
