package lambda

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/webhooks"
)

// refusedOnLambda are requests an anonymous caller of the public Function
// URL may send: every one must answer 404 without opening the database.
var refusedOnLambda = []struct{ method, target string }{
	{"GET", "/api/deliveries"},
	{"GET", "/api/deliveries?limit=100&event=issues"},
	{"GET", "/api/events/issues"},
	{"GET", "/api/events/workflow_job?classification=oom"},
	{"GET", "/api/runs"},
	{"GET", "/metrics"},
	{"GET", "/readyz"},
	{"GET", "/"},
	{"GET", "/ui/"},
	{"GET", "/ui/deliveries"},
	{"GET", "/ui/login"},
	{"POST", "/ui/login"},
	{"POST", "/api/anything"},
	{"POST", "/healthz"},
	{"GET", "/api/github/webhooks"},
	{"PUT", "/api/github/webhooks"},
	{"DELETE", "/api/github/webhooks"},
	{"OPTIONS", "/api/github/webhooks"},
	{"POST", "/api/github/webhooks/"},
	{"POST", "//api/github/webhooks"},
	{"POST", "/API/github/webhooks"},
	{"POST", "/api/github/webhooks/../../api/deliveries"},
	{"GET", "/api/circleci/webhooks"},
	{"PATCH", "/api/circleci/webhooks"},
}

// TestFunctionURLAnswersOnlyWebhooks drives the built binary with Function
// URL events as an anonymous caller: only the webhook POSTs (GitHub's and
// CircleCI's) and GET /healthz answer; the read API, metrics, UI and every
// other method and path answer 404 — before the first delivery without
// creating or opening the database at all, and after it without any of
// the stored data.
func TestFunctionURLAnswersOnlyWebhooks(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "hooks.db")
	cfg := `
database: sqlite://` + dbPath + `
webhooks:
  secrets: ["${HOOK_SECRET}"]
  circleci:
    secrets: ["${CIRCLE_SECRET}"]
`
	api := newRuntimeAPI(t)
	startFunction(t, api, map[string]string{
		"GHSYNC_CONFIG_YAML": cfg, "HOOK_SECRET": testSecret, "CIRCLE_SECRET": "circle-secret", "HOME": dir,
	})
	anon := map[string]string{"user-agent": "curl/8", "accept": "*/*"}
	refused := func(t *testing.T) {
		t.Helper()
		for _, rq := range refusedOnLambda {
			r := functionURLEvent(t, api, rq.method, rq.target, anon, `{"x":1}`)
			if r.StatusCode != 404 {
				t.Errorf("%s %s: status %d, want 404: %s", rq.method, rq.target, r.StatusCode, r.Body)
			}
			if strings.Contains(r.Body, "d-1") {
				t.Errorf("%s %s: answer shows a stored delivery: %s", rq.method, rq.target, r.Body)
			}
		}
	}

	refused(t)
	if r := functionURLEvent(t, api, "GET", "/healthz", anon, ""); r.StatusCode != 200 || !strings.Contains(r.Body, "ok") {
		t.Errorf("GET /healthz: %d %s", r.StatusCode, r.Body)
	}
	if _, err := os.Stat(dbPath); !os.IsNotExist(err) {
		t.Fatalf("refused requests and /healthz opened the database %s (stat: %v)", dbPath, err)
	}

	body := `{"zen":"Keep it logically awesome.","hook_id":1,"hook":{"type":"Repository","id":1,"active":true,"events":["push"],"config":{}}}`
	if r := httpEvent(t, api, "POST", "/api/github/webhooks", body, sign(body, testSecret), "d-1"); r.StatusCode/100 != 2 {
		t.Fatalf("signed GitHub delivery: status %d: %s", r.StatusCode, r.Body)
	}
	if r := httpEvent(t, api, "POST", "/api/github/webhooks", body, sign(body, "wrong"), "d-2"); r.StatusCode != 401 {
		t.Errorf("GitHub delivery with a wrong signature: status %d: %s", r.StatusCode, r.Body)
	}
	mac := hmac.New(sha256.New, []byte("not-the-secret"))
	mac.Write([]byte(body))
	circle := map[string]string{"content-type": "application/json", "circleci-event-type": "workflow-completed",
		"circleci-signature": "v1=" + hex.EncodeToString(mac.Sum(nil))}
	if r := functionURLEvent(t, api, "POST", "/api/circleci/webhooks", circle, body); r.StatusCode != 401 {
		t.Errorf("CircleCI delivery with a wrong signature: status %d (want the receiver's 401): %s", r.StatusCode, r.Body)
	}
	if ids := storedDeliveries(t, "sqlite://"+dbPath); len(ids) != 1 || ids[0] != "d-1" {
		t.Errorf("stored deliveries %v, want [d-1]", ids)
	}
	refused(t)
}

// storedDeliveries returns the delivery ids in the database at url.
func storedDeliveries(t *testing.T, url string) []string {
	t.Helper()
	ctx := context.Background()
	d, err := db.OpenReadOnly(ctx, url, "webhooks", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	page, err := webhooks.QueryDeliveries(ctx, d, webhooks.DeliveryQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range page.Deliveries {
		ids = append(ids, x.DeliveryID)
	}
	return ids
}
