// Package notify sends alerts about job runs to Slack incoming webhooks and
// generic JSON webhooks. Sending is best effort: a failing sender is logged
// and never fails the job that triggered it.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Levels of an alert.
const (
	LevelError  = "error"
	LevelChange = "change"
	LevelInfo   = "info"
)

// Alert is one message about one job run.
type Alert struct {
	Level   string         `json:"level"`
	Job     string         `json:"job"`
	Title   string         `json:"title"`
	Text    string         `json:"text"`
	Details map[string]any `json:"details,omitempty"`
}

// Notifier sends alerts of the enabled levels to the configured endpoints.
type Notifier struct {
	SlackURL   string   // Slack incoming webhook URL (secret: never logged)
	WebhookURL string   // generic JSON webhook (secret: never logged)
	Levels     []string // enabled levels; empty means error and change
	HTTP       *http.Client
	Logger     *slog.Logger
}

// Enabled reports whether alerts of level are sent.
func (n *Notifier) Enabled(level string) bool {
	if n == nil || (n.SlackURL == "" && n.WebhookURL == "") {
		return false
	}
	levels := n.Levels
	if len(levels) == 0 {
		levels = []string{LevelError, LevelChange}
	}
	for _, l := range levels {
		if l == level {
			return true
		}
	}
	return false
}

// Send delivers a to every endpoint when its level is enabled. Failures are
// logged (without the URL) and returned joined, for tests; callers ignore them.
func (n *Notifier) Send(ctx context.Context, a Alert) error {
	if !n.Enabled(a.Level) {
		return nil
	}
	var errs []string
	if n.SlackURL != "" {
		if err := n.post(ctx, n.SlackURL, slackBody(a)); err != nil {
			errs = append(errs, "slack: "+err.Error())
		}
	}
	if n.WebhookURL != "" {
		if err := n.post(ctx, n.WebhookURL, a); err != nil {
			errs = append(errs, "webhook: "+err.Error())
		}
	}
	if len(errs) > 0 {
		err := fmt.Errorf("alert %s for %s not delivered: %s", a.Level, a.Job, strings.Join(errs, "; "))
		if n.Logger != nil {
			n.Logger.Warn("alert not delivered", "job", a.Job, "level", a.Level, "err", strings.Join(errs, "; "))
		}
		return err
	}
	return nil
}

func slackBody(a Alert) map[string]any {
	icon := map[string]string{LevelError: ":x:", LevelChange: ":arrows_counterclockwise:", LevelInfo: ":information_source:"}[a.Level]
	return map[string]any{"text": fmt.Sprintf("%s *%s* — %s\n%s", icon, a.Job, a.Title, a.Text)}
}

func (n *Notifier) post(ctx context.Context, url string, body any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("bad alert URL")
	}
	req.Header.Set("Content-Type", "application/json")
	hc := n.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("post failed: %s", redactURL(err.Error(), url))
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("endpoint answered %d", resp.StatusCode)
	}
	return nil
}

// redactURL removes the (secret) URL from an error message.
func redactURL(msg, url string) string { return strings.ReplaceAll(msg, url, "[webhook-url]") }
