package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKindErrorsForEveryVerb: an unknown kind, a misspelt key inside a
// kind's section and a kind-specific invalid value fail at load with
// file:line:col and exit 2, whichever verb loads the configuration.
func TestKindErrorsForEveryVerb(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown kind", "jobs:\n  - name: a\n    kind: cron\n",
			`ghsync.yaml:3:5: jobs[0].kind: must be one of repo, statuses`},
		{"misspelt key", "jobs:\n  - name: a\n    kind: repo\n    source: dir:.\n    dest: x/\n    exclud: ['^a']\n",
			`ghsync.yaml:6:5: jobs[0].exclud: unknown field "exclud" (did you mean "exclude"?)`},
		{"key of another kind", "jobs:\n  - name: a\n    kind: statuses\n    repo: acme/app\n    branches: [main]\n    dest: x/\n    mode: archive\n",
			`ghsync.yaml:7:5: jobs[0].mode: field "mode" is not valid for kind statuses (it belongs to kind repo)`},
		{"invalid value", "jobs:\n  - name: a\n    kind: statuses\n    repo: acme/app\n    branches: [main]\n    dest: x/\n    history_size: 5000\n",
			`ghsync.yaml:7:5: jobs[0].history_size: must be between 1 and 1000 (got 5000)`},
	}
	verbs := [][]string{{"jobs"}, {"run", "a"}, {"serve"}, {"deploy", "template"}, {"events", "deliveries"}, {"token", "--owner", "acme"},
		{"sync", ".", "file://" + t.TempDir()}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "ghsync.yaml")
			if err := os.WriteFile(cfg, []byte(c.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, verb := range verbs {
				code, _, errs := runCLI(context.Background(), append(verb, "--config", cfg)...)
				if code != ExitUsage || !strings.Contains(errs, c.want) {
					t.Errorf("%s: exit %d, stderr %q; want 2 and %q", strings.Join(verb, " "), code, errs, c.want)
				}
			}
		})
	}
}
