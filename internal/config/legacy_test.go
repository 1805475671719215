package config_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	. "github.com/ghsync/ghsync/internal/config"
)

var legacyVars = map[string]string{
	"app_id": " 1234 ", "private_key": "-----BEGIN RSA PRIVATE KEY-----|MIIB|-----END RSA PRIVATE KEY-----",
	"bucket": "hud-bucket", "branches": "main, release/2.0,,", "user": "pytorch", "repo": "pytorch", "history_size": "50",
	"TEMP_BUCKET_NAME": "tmp", "FINAL_BUCKET_NAME": "final", "GITHUB_REPO": "acme/data", "GITHUB_API_KEY": "ghp_x",
	"WDIV_WEBHOOK_URL": "https://wdiv.example/hook", "WDIV_API_KEY": "wk", "ERROR_REPORT_EMAIL": "ops@example.com",
	"SENTRY_DSN": "https://k@sentry.example/1",
}

func TestLegacy(t *testing.T) {
	l := Legacy(mapEnv(legacyVars))
	ctx := context.Background()
	if l.AppID != "1234" || l.Bucket != "hud-bucket" || l.User != "pytorch" || l.Repo != "pytorch" || l.HistorySize != "50" {
		t.Errorf("basic fields: %+v", l)
	}
	if !cmp.Equal(l.Branches, []string{"main", "release/2.0"}) {
		t.Errorf("branches %q", l.Branches)
	}
	if l.TempBucketName != "tmp" || l.FinalBucketName != "final" || l.GitHubRepo != "acme/data" ||
		l.WDIVWebhookURL != "https://wdiv.example/hook" || l.ErrorReportEmail != "ops@example.com" {
		t.Errorf("inbox fields: %+v", l)
	}
	for name, s := range map[string]Secret{"GITHUB_API_KEY": l.GitHubAPIKey, "WDIV_API_KEY": l.WDIVAPIKey, "SENTRY_DSN": l.SentryDSN, "private_key": l.PrivateKey} {
		if v, _ := s.Resolve(ctx); v != legacyVars[name] {
			t.Errorf("%s resolves to %q", name, v)
		}
	}
	if out := strings.Join([]string{l.GitHubAPIKey.String(), l.PrivateKey.String()}, ""); strings.Contains(out, "ghp_x") {
		t.Error("legacy secret printed")
	}
}

func TestLegacyFallbackInParse(t *testing.T) {
	env := mapEnv(legacyVars)
	c, err := Parse([]byte("storage: mem://\n"), "f.yaml", env, kinds)
	if err != nil {
		t.Fatal(err)
	}
	if c.GitHub.AppID != "1234" {
		t.Errorf("app_id fallback: %q", c.GitHub.AppID)
	}
	pem, err := c.GitHub.PrivateKeyPEM(context.Background())
	if err != nil || !strings.HasPrefix(string(pem), "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n") {
		t.Errorf("private key fallback: %q %v", pem, err)
	}
	// The file wins over the legacy variables.
	c, err = Parse([]byte("github:\n  app_id: 99\n  private_key_file: /k.pem\n"), "f.yaml", env, kinds)
	if err != nil {
		t.Fatal(err)
	}
	if c.GitHub.AppID != "99" || !c.GitHub.PrivateKey.IsZero() {
		t.Errorf("file settings overridden: %+v", c.GitHub)
	}
	// A token in the file disables the App fallback.
	c, err = Parse([]byte("github:\n  token: ${T}\n"), "f.yaml", func(k string) string {
		if k == "T" {
			return "tok"
		}
		return legacyVars[k]
	}, kinds)
	if err != nil {
		t.Fatal(err)
	}
	if c.GitHub.AuthKind() != AuthToken || c.GitHub.AppID != "" {
		t.Errorf("token config got App fallback: %+v", c.GitHub)
	}
}
