package cli

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/serve"
)

// webhookExamples are the built-in example payloads of `ghsync webhooks
// send`, one file per event (EVENT.json), shaped like GitHub's.
//
//go:embed webhookexamples/*.json
var webhookExamples embed.FS

// exampleEvents lists the events with a built-in example payload.
func exampleEvents() []string {
	es, _ := webhookExamples.ReadDir("webhookexamples")
	var out []string
	for _, e := range es {
		out = append(out, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(out)
	return out
}

// sendResult is the --json object of `ghsync webhooks send`.
type sendResult struct {
	Event    string `json:"event"`
	Action   string `json:"action,omitempty"`
	Delivery string `json:"delivery"`
	URL      string `json:"url"`
	Signed   bool   `json:"signed"`
	Status   int    `json:"status"`
	Response string `json:"response"`
}

func (a *app) webhooksCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhooks",
		Short: "Test the webhook endpoint: send a signed example delivery",
	}
	cmd.AddCommand(a.webhooksSendCmd())
	return cmd
}

func (a *app) webhooksSendCmd() *cobra.Command {
	var action, payloadFile, target string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "send EVENT",
		Short: "POST a signed test delivery of EVENT to the webhook endpoint",
		Long: `Send one delivery of EVENT to a webhook endpoint as GitHub would: a built-in
example payload (or --payload FILE), signed with the configured webhook secret
(the first of webhooks.secrets, else GHSYNC_WEBHOOK_SECRET) in
X-Hub-Signature-256, with X-GitHub-Event and a fresh X-GitHub-Delivery.
--action sets the payload's "action". Prints the endpoint's answer; exit 0
when it is 2xx, 1 otherwise.

Built-in examples: ` + strings.Join(exampleEvents(), ", ") + ` (repository acme/app).`,
		Example: `  ghsync webhooks send ping
  ghsync webhooks send issues --action closed
  ghsync webhooks send workflow_job --payload job.json --url https://ghsync.example.org/api/github/webhooks`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return jobs.Usagef("webhooks send needs one EVENT (got %d arguments); built-in examples: %s", len(args), strings.Join(exampleEvents(), ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			event := args[0]
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			body, err := sendPayload(event, payloadFile, action)
			if err != nil {
				return err
			}
			if target == "" {
				target = "http://127.0.0.1:8080" + cfg.Webhooks.Path
			}
			secret, err := sendSecret(cmd.Context(), cfg, a.env.Getenv)
			if err != nil {
				return err
			}
			res, err := postDelivery(cmd.Context(), target, event, secret, body)
			if err != nil {
				return err
			}
			res.Action = action
			if action == "" {
				var p struct {
					Action string `json:"action"`
				}
				_ = json.Unmarshal(body, &p)
				res.Action = p.Action
			}
			if jsonOut {
				a.emitJSON(res)
			} else {
				fmt.Fprintf(a.env.Stdout, "%s delivery %s → %s: %d %s\n", event, res.Delivery, res.URL, res.Status, res.Response)
			}
			if res.Status/100 != 2 {
				return fmt.Errorf("the endpoint answered %d: %s", res.Status, res.Response)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&action, "action", "", `set the payload's "action" (opened, closed, completed, …)`)
	cmd.Flags().StringVar(&payloadFile, "payload", "", "send this JSON file instead of the built-in example")
	cmd.Flags().StringVar(&target, "url", "", "the endpoint (default http://127.0.0.1:8080 + webhooks.path, where `ghsync serve` listens)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON object: {event, action, delivery, url, signed, status, response}")
	return cmd
}

// sendPayload returns the body to send: the file, or the built-in example
// of event, with "action" set when action is not "".
func sendPayload(event, file, action string) ([]byte, error) {
	var body []byte
	var err error
	if file != "" {
		if body, err = os.ReadFile(file); err != nil {
			return nil, jobs.Usagef("--payload: %v", err)
		}
	} else if body, err = webhookExamples.ReadFile("webhookexamples/" + event + ".json"); err != nil {
		return nil, jobs.Usagef("no built-in example payload for %q (built-in: %s); give one with --payload FILE", event, strings.Join(exampleEvents(), ", "))
	}
	if action == "" {
		return body, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, jobs.Usagef("--action needs a JSON object payload: %v", err)
	}
	m["action"], _ = json.Marshal(action)
	return json.Marshal(m)
}

// sendSecret returns the secret `ghsync serve` checks first: the first of
// webhooks.secrets, else GHSYNC_WEBHOOK_SECRET; "" when the config allows
// unsigned deliveries and has none.
func sendSecret(ctx context.Context, cfg *config.Config, getenv func(string) string) (string, error) {
	for i, s := range cfg.Webhooks.Secrets {
		v, err := s.Resolve(ctx)
		if err != nil {
			return "", fmt.Errorf("webhooks.secrets[%d]: %w", i, err)
		}
		if v != "" {
			return v, nil
		}
	}
	if v := strings.TrimSpace(getenv(serve.EnvWebhookSecret)); v != "" {
		return v, nil
	}
	if cfg.Webhooks.InsecureNoSignature {
		return "", nil
	}
	return "", jobs.Usagef("no webhook secret to sign with: set webhooks.secrets in %s or %s (the secret `ghsync serve` checks)", configName(cfg), serve.EnvWebhookSecret)
}

// postDelivery POSTs body to url as a GitHub delivery of event, signed
// with secret when it is not "".
func postDelivery(ctx context.Context, url, event, secret string, body []byte) (*sendResult, error) {
	var id [16]byte
	_, _ = rand.Read(id[:])
	h := hex.EncodeToString(id[:])
	delivery := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, jobs.Usagef("--url %q: %v", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/ghsync-webhooks-send")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-GitHub-Hook-ID", "0")
	if secret != "" {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("send %s delivery to %s: %w (is `ghsync serve` running there?)", event, url, err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return &sendResult{Event: event, Delivery: delivery, URL: url, Signed: secret != "", Status: resp.StatusCode,
		Response: strings.TrimSpace(string(text))}, nil
}
