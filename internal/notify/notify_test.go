package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLevelsAndBodies(t *testing.T) {
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		data, _ := io.ReadAll(r.Body)
		json.Unmarshal(data, &m)
		m["_path"] = r.URL.Path
		got = append(got, m)
	}))
	defer srv.Close()
	n := &Notifier{SlackURL: srv.URL + "/slack", WebhookURL: srv.URL + "/hook", Levels: []string{LevelError}}
	ctx := context.Background()
	if err := n.Send(ctx, Alert{Level: LevelChange, Job: "j", Title: "t"}); err != nil || len(got) != 0 {
		t.Fatalf("change alert sent although only error is enabled: %v %v", err, got)
	}
	if err := n.Send(ctx, Alert{Level: LevelError, Job: "site", Title: "sync failed", Text: "boom"}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("want slack + webhook, got %v", got)
	}
	if got[0]["_path"] != "/slack" || !strings.Contains(got[0]["text"].(string), "*site*") || !strings.Contains(got[0]["text"].(string), "boom") {
		t.Fatalf("slack body: %v", got[0])
	}
	if got[1]["_path"] != "/hook" || got[1]["level"] != "error" || got[1]["job"] != "site" {
		t.Fatalf("webhook body: %v", got[1])
	}
	if (&Notifier{}).Enabled(LevelError) {
		t.Fatal("a notifier without endpoints is enabled")
	}
	if !(&Notifier{SlackURL: "x"}).Enabled(LevelChange) || (&Notifier{SlackURL: "x"}).Enabled(LevelInfo) {
		t.Fatal("default levels are error and change")
	}
}

func TestFailuresDoNotLeakTheURL(t *testing.T) {
	secretURL := "http://127.0.0.1:1/services/T000/B000/SECRETSECRET"
	n := &Notifier{SlackURL: secretURL}
	err := n.Send(context.Background(), Alert{Level: LevelError, Job: "j"})
	if err == nil {
		t.Fatal("want an error from an unreachable endpoint")
	}
	if strings.Contains(err.Error(), "SECRETSECRET") {
		t.Fatalf("error leaks the webhook URL: %v", err)
	}
}
