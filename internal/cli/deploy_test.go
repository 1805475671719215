package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func runDeploy(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }})
	return code, out.String(), errb.String()
}

func TestDeployTemplateVerb(t *testing.T) {
	vars := map[string]string{"GITHUB_WEBHOOK_SECRET": "s", "GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": "k"}
	example := filepath.Join("..", "..", "examples", "ghsync.yaml")
	code, out, errs := runDeploy(t, vars, "deploy", "template", "--config", example, "--arch", "x86_64")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("template is not YAML: %v", err)
	}
	res := doc["Resources"].(map[string]any)
	if _, ok := res["ScheduleSite"]; !ok {
		t.Errorf("no ScheduleSite in %v", res)
	}
	fn := res["Function"].(map[string]any)["Properties"].(map[string]any)
	if fn["Architectures"].([]any)[0] != "x86_64" || fn["Runtime"] != "provided.al2023" {
		t.Errorf("function properties %v", fn)
	}
	if !strings.Contains(errs, "SQLite") {
		t.Errorf("no warning about SQLite webhooks on stderr: %s", errs)
	}
	code, out, _ = runDeploy(t, vars, "deploy", "template", "--config", example, "--json")
	if code != 0 || !json.Valid([]byte(out)) {
		t.Errorf("--json: exit %d, valid JSON %v", code, json.Valid([]byte(out)))
	}
	for _, bad := range [][]string{{"--arch", "mips"}, {"--format", "toml"}, {"--log-retention-days", "2"}, {"--config-url", "https://x/y"}} {
		if code, _, errs := runDeploy(t, vars, append([]string{"deploy", "template", "--config", example}, bad...)...); code != ExitUsage {
			t.Errorf("%v: exit %d (%s), want 2", bad, code, errs)
		}
	}
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(cfg, []byte("jobs:\n  - name: x\n    kind: repo\n    schedule: '@every 10s'\n    source: github:a/b\n    dest: s3://b/\n"), 0o644)
	if code, _, errs := runDeploy(t, vars, "deploy", "template", "--config", cfg); code != ExitUsage || !strings.Contains(errs, "whole minutes") || !strings.Contains(errs, "bad.yaml") {
		t.Errorf("sub-minute schedule: exit %d: %s", code, errs)
	}
}

// TestDeploySchedulesVerbs drives list/update/invoke through the CLI against
// moto_server (EventBridge, STS) and a Lambda Invoke test endpoint.
func TestDeploySchedulesVerbs(t *testing.T) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		if os.Getenv("GHSYNC_REQUIRE_MOTO") == "1" {
			t.Fatal("moto_server not on PATH and GHSYNC_REQUIRE_MOTO=1")
		}
		t.Skip("SKIPPED LOUDLY: moto_server not on PATH; deploy schedules verbs NOT tested")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	moto := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	if err := moto.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = moto.Process.Kill(); _, _ = moto.Process.Wait() })
	motoURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get(motoURL + "/moto-api/"); err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("moto_server did not start")
		}
	}
	// One endpoint for all three services: Lambda paths go to the fake, the rest to moto.
	var invoked []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/") {
			body, _ := io.ReadAll(r.Body)
			if strings.HasSuffix(r.URL.Path, "/policy") {
				w.WriteHeader(http.StatusCreated)
				_, _ = io.WriteString(w, `{"Statement":"{}"}`)
				return
			}
			invoked = append(invoked, r.URL.Path+" "+string(body))
			_, _ = io.WriteString(w, `{"job":"site","changed":false}`)
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, motoURL+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	}))
	defer proxy.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	cfg := filepath.Join(t.TempDir(), "ghsync.yaml")
	os.WriteFile(cfg, []byte(`jobs:
  - name: site
    kind: repo
    schedule: "*/10 * * * *"
    source: github:acme/site
    dest: s3://acme-site/
  - name: hud
    kind: statuses
    schedule: "@every 2m"
    repo: acme/app
    branches: [main]
    dest: s3://acme-hud/
`), 0o644)
	aws := []string{"--config", cfg, "--function", "ghsync", "--region", "eu-west-1", "--endpoint-url", proxy.URL}
	run := func(args ...string) (int, string, string) { return runDeploy(t, nil, append(args, aws...)...) }

	code, out, errs := run("deploy", "schedules", "update", "--dry-run", "--json")
	if code != 0 {
		t.Fatalf("update --dry-run: exit %d: %s", code, errs)
	}
	var plan struct {
		Function string
		DryRun   bool `json:"dry_run"`
		Changes  []struct{ Rule, Action, Schedule, Input string }
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if plan.Function != "arn:aws:lambda:eu-west-1:123456789012:function:ghsync" || !plan.DryRun || len(plan.Changes) != 2 ||
		plan.Changes[0].Action != "create" || plan.Changes[0].Schedule != "cron(0/10 * * * ? *)" || plan.Changes[1].Schedule != "rate(2 minutes)" {
		t.Fatalf("plan %+v", plan)
	}
	if code, out, _ := run("deploy", "schedules", "list", "--json"); code != 0 || strings.Contains(out, "ghsync-site") {
		t.Fatalf("dry run changed something: %s", out)
	}
	if code, out, errs := run("deploy", "schedules", "update"); code != 0 || !strings.Contains(out, "ghsync-hud") {
		t.Fatalf("update: exit %d %s %s", code, out, errs)
	}
	code, out, _ = run("deploy", "schedules", "list")
	if code != 0 || !strings.Contains(out, "ghsync-site") || !strings.Contains(out, `{"job":"site"}`) || !strings.Contains(out, "rate(2 minutes)") {
		t.Fatalf("list after update: %s", out)
	}
	code, out, errs = run("deploy", "schedules", "invoke", "--rule", "ghsync-site", "--dry-run")
	if code != 0 || strings.TrimSpace(out) != `{"job":"site","changed":false}` {
		t.Fatalf("invoke: exit %d %q %s", code, out, errs)
	}
	if len(invoked) != 1 || !strings.HasSuffix(invoked[0], `{"dry_run":true,"job":"site"}`) || !strings.Contains(invoked[0], "function%3Aghsync") && !strings.Contains(invoked[0], "function:ghsync") {
		t.Errorf("invocations %v", invoked)
	}
	if code, _, errs := run("deploy", "schedules", "invoke"); code != ExitUsage || !strings.Contains(errs, "--rule") {
		t.Errorf("invoke without --rule: exit %d %s", code, errs)
	}
}
