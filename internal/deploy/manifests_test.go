package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ghsync/ghsync/internal/jobs"
)

// TestKubernetesManifests checks that the Kubernetes examples parse, that the
// config in the ConfigMap loads, and that there is a CronJob running each
// configured job.
func TestKubernetesManifests(t *testing.T) {
	dir := filepath.Join("..", "..", "deploy", "k8s")
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) < 3 {
		t.Fatalf("manifests: %v", files)
	}
	var cfgText string
	cron := map[string]bool{}
	kinds := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				if err.Error() == "EOF" {
					break
				}
				t.Fatalf("%s: %v", f, err)
			}
			kind, _ := doc["kind"].(string)
			kinds[kind] = true
			switch kind {
			case "ConfigMap":
				cfgText, _ = doc["data"].(map[string]any)["ghsync.yaml"].(string)
			case "CronJob":
				c := doc["spec"].(map[string]any)["jobTemplate"].(map[string]any)["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
				args := c["args"].([]any)
				if args[0] != "run" {
					t.Errorf("CronJob args %v", args)
				}
				cron[args[1].(string)] = true
			}
		}
	}
	for _, k := range []string{"ConfigMap", "Secret", "Deployment", "Service", "CronJob"} {
		if !kinds[k] {
			t.Errorf("no %s in deploy/k8s", k)
		}
	}
	env := map[string]string{"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": "k", "GHSYNC_DATABASE": "postgres://u@h/db", "GITHUB_WEBHOOK_SECRET": "s"}
	cfg, err := jobs.ParseConfig([]byte(cfgText), "configmap ghsync.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("ConfigMap config: %v", err)
	}
	for _, j := range cfg.Jobs {
		if j.Schedule != "" && !cron[j.Name] {
			t.Errorf("scheduled job %s has no CronJob", j.Name)
		}
	}
}
