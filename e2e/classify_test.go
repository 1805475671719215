package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// classifyLog matches the built-in "pytest failure" rule and the rules
// below; two '+' lines precede the failure.
const classifyLog = "2024-05-01T10:00:00.0000000Z + python -m pytest\n" +
	"2024-05-01T10:00:01.0000000Z + echo hi\n" +
	"FAILED test/a.py::test_one - boom\n"

// classifyMatch is one `ghsync classify --json` line.
type classifyMatch struct {
	File  string `json:"file"`
	Match *struct {
		Rule    string   `json:"rule"`
		Context []string `json:"context"`
	} `json:"match"`
}

// classifyJSON runs `ghsync classify --json ARGS… LOGFILE` in dir and
// decodes its one line; it fails the test unless the exit code is 0.
func classifyJSON(t *testing.T, dir string, env map[string]string, args ...string) classifyMatch {
	t.Helper()
	r := exe(t, dir, env, append(append([]string{"classify", "--json"}, args...), "job.log")...)
	if r.code != 0 {
		t.Fatalf("classify %v: exit %d, stderr %q", args, r.code, r.stderr)
	}
	var m classifyMatch
	if err := json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &m); err != nil {
		t.Fatalf("classify %v: stdout is not one JSON line (%v): %q", args, err, r.stdout)
	}
	if m.Match == nil {
		t.Fatalf("classify %v: no match: %q", args, r.stdout)
	}
	return m
}

// TestClassifyUsesConfigRules: `ghsync classify` takes webhooks.logs.rules
// and webhooks.logs.context from the configuration every verb loads (a
// relative rules path from the working directory, as serve takes it), the
// flags override them, no configuration means the built-in ruleset, and a
// configuration or rules file that fails to load is exit 2 naming it.
func TestClassifyUsesConfigRules(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"job.log":           classifyLog,
		"ci/ruleset.toml":   "[[rule]]\nname = \"team rule\"\npattern = '^FAILED (\\S+)'\n",
		"ci/flag.toml":      "[[rule]]\nname = \"flag rule\"\npattern = 'boom'\n",
		"ci/bad.toml":       "[[rule]]\nname = \"x\"\npattern = 'ok'\n\n[[rule]]\nname = \"y\"\npattern = 'unterminated\n",
		"ghsync.yaml":       "webhooks:\n  logs:\n    rules: ci/ruleset.toml\n    context: 1\n",
		"other/ghsync.yaml": "webhooks:\n  logs:\n    rules: ../ci/bad.toml\n", // relative to the config file
		"plain/ghsync.yaml": "storage: file://./out\n",
	})

	// No configuration file: the built-in ruleset and 12 lines of context.
	empty := t.TempDir()
	writeTree(t, empty, map[string]string{"job.log": classifyLog})
	if m := classifyJSON(t, empty, nil); m.Match.Rule != "pytest failure" || len(m.Match.Context) != 2 {
		t.Errorf("no config: %+v; want the built-in pytest rule and 2 context lines", *m.Match)
	}

	// ./ghsync.yaml, --config and $GHSYNC_CONFIG all bring the config's rules and context.
	for name, run := range map[string]func() classifyMatch{
		"./ghsync.yaml": func() classifyMatch { return classifyJSON(t, dir, nil) },
		"--config":      func() classifyMatch { return classifyJSON(t, dir, nil, "--config", filepath.Join(dir, "ghsync.yaml")) },
		"GHSYNC_CONFIG": func() classifyMatch { return classifyJSON(t, dir, map[string]string{"GHSYNC_CONFIG": "ghsync.yaml"}) },
	} {
		if m := run(); m.Match.Rule != "team rule" || len(m.Match.Context) != 1 || m.Match.Context[0] != "+ echo hi" {
			t.Errorf("%s: %+v; want the config's rule and 1 context line", name, *m.Match)
		}
	}
	// A config without webhooks.logs keeps the built-in defaults.
	if m := classifyJSON(t, dir, nil, "--config", filepath.Join(dir, "plain", "ghsync.yaml")); m.Match.Rule != "pytest failure" || len(m.Match.Context) != 2 {
		t.Errorf("config without webhooks.logs: %+v", *m.Match)
	}

	// Flags beat the configuration, each on its own.
	if m := classifyJSON(t, dir, nil, "--rules", "ci/flag.toml"); m.Match.Rule != "flag rule" || len(m.Match.Context) != 1 {
		t.Errorf("--rules: %+v; want the flag's rule with the config's context", *m.Match)
	}
	if m := classifyJSON(t, dir, nil, "--context", "0"); m.Match.Rule != "team rule" || len(m.Match.Context) != 0 {
		t.Errorf("--context 0: %+v; want the config's rule without context", *m.Match)
	}
	if m := classifyJSON(t, dir, nil, "--rules", ""); m.Match.Rule != "pytest failure" {
		t.Errorf(`--rules "": %+v; want the built-in ruleset`, *m.Match)
	}

	// A bad rules file named by the config: exit 2 naming the config key's
	// file:line and the rules file with its TOML line.
	r := exe(t, dir, nil, "classify", "--config", filepath.Join("other", "ghsync.yaml"), "job.log")
	if r.code != 2 || !strings.Contains(r.stderr, "ghsync.yaml:3:5: webhooks.logs.rules:") ||
		!strings.Contains(r.stderr, "ci/bad.toml") || !strings.Contains(r.stderr, "line 7") || r.stdout != "" {
		t.Errorf("bad rules file in config: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// ... which --rules replaces, so it is not read.
	if m := classifyJSON(t, dir, nil, "--config", filepath.Join("other", "ghsync.yaml"), "--rules", "ci/flag.toml"); m.Match.Rule != "flag rule" {
		t.Errorf("--rules over a bad config rules file: %+v", *m.Match)
	}
	// A missing rules file and a configuration that does not load are exit 2 too.
	writeTree(t, dir, map[string]string{
		"missing/ghsync.yaml": "webhooks:\n  logs:\n    rules: ci/nope.toml\n",
		"broken/ghsync.yaml":  "webhooks:\n  logs:\n    context: -3\n",
	})
	for cfg, want := range map[string]string{
		"missing/ghsync.yaml": "ci/nope.toml",
		"broken/ghsync.yaml":  "ghsync.yaml:3:5: webhooks.logs.context: must be between 0 and 1000",
	} {
		r := exe(t, dir, nil, "classify", "--config", cfg, "job.log")
		if r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("--config %s: exit %d, stderr %q; want 2 and %q", cfg, r.code, r.stderr, want)
		}
	}
}
