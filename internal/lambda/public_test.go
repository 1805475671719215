package lambda

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/jobs"
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

// TestRefusedRequestsNeverReachTheDatabase: once a delivery has opened the
// webhook server, its database is closed under it, so that any query fails
// (the read API would answer 500). Every refused request still answers 404
// — it never reaches the server — while GET /api/deliveries on the server's
// own handler shows that a request reaching it would have failed.
func TestRefusedRequestsNeverReachTheDatabase(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"HOOK_SECRET": testSecret}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Parse([]byte("database: sqlite://"+dir+"/hooks.db\nwebhooks:\n  secrets: [\"${HOOK_SECRET}\"]\n"),
		"GHSYNC_CONFIG_YAML", getenv, jobs.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	h := New(cfg, nil, getenv)
	defer h.Close(context.Background())
	ctx := context.Background()
	if _, err := h.Invoke(ctx, signedHookEvent("ping", "d-1", `{"zen":"x","hook_id":1}`)); err != nil {
		t.Fatal(err)
	}
	if h.web == nil {
		t.Fatal("the delivery did not open the webhook server")
	}
	if err := h.web.DB().Close(); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.web.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/deliveries", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("GET /api/deliveries on the server with a closed database: %d, want 500 (the test's premise)", rec.Code)
	}
	for _, rq := range refusedOnLambda {
		path, query, _ := strings.Cut(rq.target, "?")
		ev, _ := json.Marshal(map[string]any{"version": "2.0", "rawPath": path, "rawQueryString": query, "body": "{}",
			"headers":        map[string]string{"accept": "*/*"},
			"requestContext": map[string]any{"http": map[string]any{"method": rq.method, "sourceIp": "192.0.2.1"}}})
		out, err := h.Invoke(ctx, ev)
		if err != nil {
			t.Fatalf("%s %s: %v", rq.method, rq.target, err)
		}
		var res struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404: %s", rq.method, rq.target, res.StatusCode, res.Body)
		}
	}
}
