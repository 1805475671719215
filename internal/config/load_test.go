package config_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/ghsync/ghsync/internal/config"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadPrecedence(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	explicit := writeFile(t, dir, "explicit.yaml", "storage: mem://explicit\n")
	fromEnv := writeFile(t, dir, "env.yaml", "storage: mem://env\n")

	// Nothing anywhere: defaults.
	c, err := Load("", nil, kinds)
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage != DefaultStorage || c.File != "" {
		t.Errorf("defaults: storage %q file %q", c.Storage, c.File)
	}

	writeFile(t, dir, "ghsync.yaml", "storage: mem://cwd\n")
	env := map[string]string{}
	tests := []struct {
		name, path, setEnv, setVal, want, file string
	}{
		{"./ghsync.yaml", "", "", "", "mem://cwd", "ghsync.yaml"},
		{"GHSYNC_CONFIG_YAML beats ./ghsync.yaml", "", EnvConfigYAML, "storage: mem://yaml-env\n", "mem://yaml-env", EnvConfigYAML},
		{"GHSYNC_CONFIG beats GHSYNC_CONFIG_YAML", "", EnvConfig, fromEnv, "mem://env", fromEnv},
		{"explicit path beats all", explicit, "", "", "mem://explicit", explicit},
	}
	for _, tt := range tests {
		if tt.setEnv != "" {
			env[tt.setEnv] = tt.setVal
		}
		c, err := Load(tt.path, mapEnv(env), kinds)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if c.Storage != tt.want || c.File != tt.file {
			t.Errorf("%s: storage %q file %q, want %q %q", tt.name, c.Storage, c.File, tt.want, tt.file)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(filepath.Join(dir, "missing.yaml"), nil, kinds)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing explicit file: %v", err)
	}
	_, err = Load("", mapEnv(map[string]string{EnvConfig: filepath.Join(dir, "nope.yaml")}), kinds)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing GHSYNC_CONFIG file: %v", err)
	}
	bad := writeFile(t, dir, "bad.yaml", "storage: mem://\njobs:\n  - name: x\n    kind: repo\n")
	_, err = Load(bad, nil, kinds)
	errs := Errors(err)
	if len(errs) != 2 || errs[0].File != bad || !strings.HasPrefix(err.Error(), bad+":3:5: jobs[0].source: is required") {
		t.Errorf("validation errors from Load: %v", err)
	}
}

func TestLoadDefaultsUseLegacyEnv(t *testing.T) {
	t.Chdir(t.TempDir())
	c, err := Load("", mapEnv(map[string]string{"app_id": "42", "private_key": "-----BEGIN|x|-----END|"}), kinds)
	if err != nil {
		t.Fatal(err)
	}
	if c.GitHub.AppID != "42" || c.GitHub.AuthKind() != AuthApp {
		t.Errorf("legacy app id not applied: %+v", c.GitHub)
	}
	// A legacy app id without a key is a configuration error.
	_, err = Load("", mapEnv(map[string]string{"app_id": "42"}), kinds)
	if err == nil || !strings.Contains(err.Error(), "github.app_id: a GitHub App needs private_key") {
		t.Errorf("err = %v", err)
	}
}
