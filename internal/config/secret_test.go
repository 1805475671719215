package config_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	. "github.com/ghsync/ghsync/internal/config"
)

const secretValue = "ghp_SuperSecretValue123"

func TestSecretNeverPrinted(t *testing.T) {
	s := NewSecret(secretValue)
	holder := struct {
		Token Secret
		Name  string
	}{s, "n"}
	var outputs []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s"} {
		outputs = append(outputs, fmt.Sprintf(f, s), fmt.Sprintf(f, holder), fmt.Sprintf(f, &holder))
	}
	outputs = append(outputs, s.String(), fmt.Sprint(s), fmt.Sprintln(s))
	j, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(j))
	y, err := yaml.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(y))
	var logBuf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logBuf, nil), slog.NewJSONHandler(&logBuf, nil)} {
		l := slog.New(h)
		l.Info("auth", "token", s, "holder", holder, slog.Any("ptr", &holder))
		l.Info("cfg", "github", GitHub{Token: s, PrivateKey: s})
	}
	outputs = append(outputs, logBuf.String())

	for _, out := range outputs {
		if strings.Contains(out, secretValue) || strings.Contains(out, fmt.Sprintf("%x", secretValue)) {
			t.Errorf("secret leaked: %s", out)
		}
		if !strings.Contains(out, "[redacted]") && !strings.Contains(out, "5b72656461637465645d") && !strings.Contains(out, "5B72656461637465645D") {
			t.Errorf("output lacks [redacted]: %q", out)
		}
	}
}

func TestSecretInConfigNotPrinted(t *testing.T) {
	y := "github:\n  token: ${T}\nalerts:\n  slack_webhook_url: ${S}\nwebhooks:\n  secrets: [\"${W1}\", \"${W2}\"]\n"
	c, err := Parse([]byte(y), "f.yaml", mapEnv(map[string]string{"T": "tok-1", "S": "https://hooks.slack.com/x", "W1": "whsec-1"}), kinds)
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprintf("%+v %v", *c, c)
	b, _ := json.Marshal(c)
	out += string(b)
	for _, v := range []string{"tok-1", "hooks.slack.com", "whsec-1"} {
		if strings.Contains(out, v) {
			t.Errorf("secret %q leaked in %s", v, out)
		}
	}
	if len(c.Webhooks.Secrets) != 1 {
		t.Errorf("webhook secrets = %d, want 1 (unset ${W2} dropped)", len(c.Webhooks.Secrets))
	}
	if got, _ := c.GitHub.Token.Resolve(context.Background()); got != "tok-1" {
		t.Errorf("token resolves to %q", got)
	}
	if c.GitHub.AuthKind() != AuthToken {
		t.Errorf("AuthKind = %q", c.GitHub.AuthKind())
	}
}

func TestSecretResolve(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tok")
	if err := os.WriteFile(file, []byte("from-file\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		ref, want, desc string
	}{
		{"", "", "unset"},
		{"literal-value", "literal-value", "literal"},
		{"file:" + file, "from-file", "file:" + file},
		{"file://" + file + "?decoder=string", "from-file", "file://" + file},
		{"file://" + file, "from-file", "file://" + file},
	}
	for _, tt := range tests {
		s := NewSecret(tt.ref)
		got, err := s.Resolve(ctx)
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.ref, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Resolve(%q) = %q, want %q", tt.ref, got, tt.want)
		}
		if d := s.Describe(); d != tt.desc {
			t.Errorf("Describe(%q) = %q, want %q", tt.ref, d, tt.desc)
		}
	}
	_, err := NewSecret("file:" + filepath.Join(dir, "missing")).Resolve(ctx)
	if err == nil || !strings.Contains(err.Error(), "read secret file") {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestLiteralSecretWarns(t *testing.T) {
	c, err := Parse([]byte("github:\n  token: ghp_literal\n"), "f.yaml", nil, kinds)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || c.Warnings[0].Field != "github.token" || c.Warnings[0].Line != 2 {
		t.Fatalf("warnings = %v", c.Warnings)
	}
	if strings.Contains(c.Warnings[0].Error(), "ghp_literal") {
		t.Error("warning contains the secret")
	}
	c, err = Parse([]byte("github:\n  app_id: 1\n  private_key: file:/run/k\nalerts:\n  slack_webhook_url: ${T}\n"), "f.yaml", mapEnv(map[string]string{"T": "x"}), kinds)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("unexpected warnings %v", c.Warnings)
	}
}

func TestPrivateKeyPEM(t *testing.T) {
	ctx := context.Background()
	g := GitHub{PrivateKey: NewSecret("-----BEGIN KEY-----|abc|-----END KEY-----|")}
	b, err := g.PrivateKeyPEM(ctx)
	if err != nil || string(b) != "-----BEGIN KEY-----\nabc\n-----END KEY-----\n" {
		t.Errorf("pipe form: %q, %v", b, err)
	}
	multi := "-----BEGIN KEY-----\na|b\n-----END KEY-----\n"
	g = GitHub{PrivateKey: NewSecret(multi)}
	if b, err := g.PrivateKeyPEM(ctx); err != nil || string(b) != multi {
		t.Errorf("multi-line form changed: %q, %v", b, err)
	}
	f := filepath.Join(t.TempDir(), "k.pem")
	if err := os.WriteFile(f, []byte(multi), 0o600); err != nil {
		t.Fatal(err)
	}
	g = GitHub{PrivateKeyFile: f}
	if b, err := g.PrivateKeyPEM(ctx); err != nil || string(b) != multi {
		t.Errorf("file form: %q, %v", b, err)
	}
	if _, err := (&GitHub{}).PrivateKeyPEM(ctx); err == nil {
		t.Error("no key: want error")
	}
}
