package serve_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/serve"
)

// TestConfigAuth: serve.auth.token (any secret form) or GHSYNC_SERVE_TOKEN
// becomes Options.AuthToken; a token that is set but empty or short is a
// configuration error naming where it came from, never "no token"; the
// opt-out is passed on; token and opt-out together do not load.
func TestConfigAuth(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	good := filepath.Join(dir, "good")
	os.WriteFile(empty, []byte("\n"), 0o600)
	os.WriteFile(good, []byte(serveToken+"\n"), 0o600)
	cases := []struct {
		name, yaml, envTok string
		want, wantErr      string
		publicRead         bool
	}{
		{"file secret", "serve:\n  auth:\n    token: file:" + good + "\n", "", serveToken, "", false},
		{"env reference", "serve:\n  auth:\n    token: ${TOK}\n", "", serveToken, "", false},
		{"environment fallback", "", serveToken, serveToken, "", false},
		{"config wins over the environment", "serve:\n  auth:\n    token: file:" + good + "\n", "another-token-of-some-length", serveToken, "", false},
		{"empty file", "serve:\n  auth:\n    token: file:" + empty + "\n", "", "", "c.yaml:3:5: serve.auth.token: file:" + empty + " resolves to an empty value", false},
		{"short in config", "serve:\n  auth:\n    token: ${SHORT}\n", "", "", "c.yaml:3:5: serve.auth.token: the token must be at least 16 characters", false},
		{"short in the environment", "", "short", "", "GHSYNC_SERVE_TOKEN: the token must be at least 16 characters", false},
		{"opt-out", "serve:\n  auth:\n    insecure_public_read: true\n", "", "", "", true},
		{"nothing", "", "", "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"TOK": serveToken, "SHORT": "short", serve.EnvServeToken: c.envTok}
			getenv := func(k string) string { return env[k] }
			cfg, err := config.Parse([]byte(c.yaml), "c.yaml", getenv, jobs.Builtin())
			if err != nil {
				t.Fatal(err)
			}
			var opts serve.Options
			err = serve.ConfigAuth(context.Background(), cfg, getenv, &opts)
			if c.wantErr != "" {
				var ce *config.Error
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !errors.As(err, &ce) {
					t.Fatalf("error %v, want a *config.Error containing %q", err, c.wantErr)
				}
				if strings.Contains(err.Error(), "short") {
					t.Errorf("error shows the token's value: %v", err)
				}
				return
			}
			if err != nil || opts.AuthToken != c.want || opts.InsecurePublicRead != c.publicRead {
				t.Fatalf("token %q public_read %v err %v; want %q %v", opts.AuthToken, opts.InsecurePublicRead, err, c.want, c.publicRead)
			}
		})
	}
	_, err := config.Parse([]byte("serve:\n  auth:\n    token: ${TOK}\n    insecure_public_read: true\n"), "c.yaml",
		func(string) string { return serveToken }, jobs.Builtin())
	if err == nil || !strings.Contains(err.Error(), "c.yaml:4:5: serve.auth.insecure_public_read: set either serve.auth.token or insecure_public_read: true, not both") {
		t.Errorf("token and opt-out together: %v", err)
	}
	_, err = config.Parse([]byte("serve:\n  auth:\n    tokn: x\n"), "c.yaml", nil, jobs.Builtin())
	if err == nil || !strings.Contains(err.Error(), "token") {
		t.Errorf("misspelled key: %v", err)
	}
}
