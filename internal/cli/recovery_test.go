package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/githubtest"
)

// TestRecoveryJobs runs the redeliver job from serve's scheduler (counted
// in serve's /metrics) and from `ghsync run`, and the reconcile job from
// `ghsync run`, against the fake GitHub App; the redelivered webhooks are
// re-sent, signed, to the running serve.
func TestRecoveryJobs(t *testing.T) {
	t.Parallel() // sleeps on poll intervals and retry pauses; touches no process-wide state
	gh := githubtest.New(t, githubtest.Options{})
	gh.AddInstallation("acme")
	gh.AddRepo("acme", "app")
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "ghsync.yaml"), []byte(`database: sqlite://`+dir+`/data/ghsync.db
github:
  app_id: "`+fmt.Sprint(gh.AppID)+`"
  private_key: ${GH_KEY}
  api_url: `+gh.URL+`
webhooks:
  secrets: ["${HOOK_SECRET}"]
jobs:
  - name: recover
    kind: redeliver
    schedule: "@every 1s"
    window: 24h
    max_requests: 10
  - name: fix
    kind: reconcile
    repos: [acme/*]
    stuck_after: 1h
`))
	env := map[string]string{"GH_KEY": string(gh.AppPrivateKeyPEM), "HOOK_SECRET": hookSecret}
	base, stop := startServe(t, env, cfg)

	now := time.Now()
	missing := map[int]bool{2: true, 7: true, 8: true}
	for i := 0; i < 10; i++ {
		guid := fmt.Sprintf("guid-%d", i)
		gh.AddHookDelivery(githubtest.HookDelivery{GUID: guid, Event: "issues", Action: "opened",
			DeliveredAt: now.Add(time.Duration(i-20) * time.Minute), Status: "OK", StatusCode: 202})
		if !missing[i] {
			if code := postHook(t, base, "issues", guid, issueDelivery(i)); code != 202 {
				t.Fatalf("post %s: %d", guid, code)
			}
		}
	}
	// Older than the window: not GitHub's to redeliver any more.
	gh.AddHookDelivery(githubtest.HookDelivery{GUID: "too-old", Event: "issues", DeliveredAt: now.Add(-48 * time.Hour), Status: "failed", StatusCode: 502})
	gh.OnRedeliver(func(d githubtest.HookDelivery) {
		var i int
		fmt.Sscanf(d.GUID, "guid-%d", &i)
		if code := postHook(t, base, d.Event, d.GUID, issueDelivery(i)); code != 202 {
			t.Errorf("redelivery of %s: %d", d.GUID, code)
		}
	})

	// serve's scheduler runs the redeliver job: 3 requested, re-sent, stored.
	metric := regexp.MustCompile(`ghsync_webhook_redeliveries_total\{outcome="requested"\} (\d+)`)
	for deadline := time.Now().Add(60 * time.Second); ; {
		var page struct {
			Deliveries []json.RawMessage `json:"deliveries"`
		}
		getJSON(t, base+"/api/deliveries?limit=100", &page)
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := metric.FindStringSubmatch(string(body))
		if len(page.Deliveries) == 10 && m != nil && m[1] == "3" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60s: %d deliveries, metric %v; requests %v", len(page.Deliveries), m, gh.Redeliveries())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := len(gh.Redeliveries()); n != 3 {
		t.Errorf("redelivery requests = %d, want 3 (each missing GUID once)", n)
	}

	// `ghsync run recover`: nothing left to request; the job's cursor (kept
	// by serve's runs) limits the listing to the page of what is newer.
	code, out, errs := runCLIEnv(context.Background(), env, "run", "recover", "--config", cfg, "--json")
	var rs struct {
		GUIDs     int `json:"guids"`
		Stored    int `json:"stored"`
		Missing   int `json:"missing"`
		Requested int `json:"requested"`
		Pages     int `json:"pages"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &rs) != nil || rs.Pages != 1 || rs.Stored != rs.GUIDs || rs.Missing != 0 || rs.Requested != 0 {
		t.Fatalf("run recover: exit %d\n%s\n%s", code, out, errs)
	}

	// reconcile: a job stuck in_progress for 5h is completed per the API.
	old := time.Now().Add(-5 * time.Hour).UTC()
	if code := postHook(t, base, "workflow_job", "stuck-1", jobDelivery("acme/app", 501, "in_progress", "", old.Format(time.RFC3339))); code != 202 {
		t.Fatal(code)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		var page eventsPage
		getJSON(t, base+"/api/events/workflow_job?status=in_progress", &page)
		if len(page.Rows) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the in_progress job was not projected")
		}
		time.Sleep(50 * time.Millisecond)
	}
	gh.SetJob("acme", "app", githubtest.Job{ID: 501, RunID: 1, Name: "build", HeadSHA: "abc", Status: "completed", Conclusion: "failure",
		CreatedAt: old, StartedAt: old, CompletedAt: old.Add(time.Hour)})
	code, out, errs = runCLIEnv(context.Background(), env, "run", "fix", "--config", cfg)
	if code != 0 || !strings.Contains(out, "1 stuck jobs: 1 checked, 1 updated") {
		t.Fatalf("run fix: exit %d\n%s\n%s", code, out, errs)
	}
	var page eventsPage
	getJSON(t, base+"/api/events/workflow_job?status=completed", &page)
	if len(page.Rows) != 1 || page.Rows[0].Key != "acme/app/501" {
		t.Errorf("after reconcile: %+v", page.Rows)
	}
	if code, errs := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, errs)
	}
	if strings.Contains(out+errs, "PRIVATE KEY") {
		t.Error("the App key was printed")
	}
}

// TestRedeliverNeedsAnApp: without a GitHub App the job fails as a usage
// error (exit 2) saying why.
func TestRedeliverNeedsAnApp(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "ghsync.yaml"), []byte("database: sqlite://"+dir+"/db\ngithub:\n  token: ${T}\njobs:\n  - name: recover\n    kind: redeliver\n"))
	code, _, errs := runCLIEnv(context.Background(), map[string]string{"T": "ghp_x"}, "run", "recover", "--config", cfg)
	if code != ExitUsage || !strings.Contains(errs, "kind redeliver needs a GitHub App") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	bad := writeFile(t, filepath.Join(dir, "bad.yaml"), []byte("jobs:\n  - name: fix\n    kind: reconcile\n    stuck_after: 0s\n  - name: r\n    kind: redeliver\n    max_requests: 0\n"))
	code, _, errs = runCLI(context.Background(), "jobs", "--config", bad)
	for _, want := range []string{"bad.yaml:2:5: jobs[0].repos: at least one repository", "bad.yaml:4:5: jobs[0].stuck_after: must be positive",
		"bad.yaml:7:5: jobs[1].max_requests: must be between 1 and 10000 (got 0)"} {
		if code != ExitUsage || !strings.Contains(errs, want) {
			t.Errorf("exit %d, stderr %q; want %q", code, errs, want)
		}
	}
}

func issueDelivery(i int) []byte {
	return []byte(fmt.Sprintf(`{"action":"opened","issue":{"id":%d,"number":%d,"state":"open","title":"t","updated_at":"2024-01-01T00:00:00Z"},"repository":{"full_name":"acme/app"}}`, i+1, i+1))
}
