package github

import (
	"context"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func TestNormalizePrivateKey(t *testing.T) {
	want := string(testKeyPEM())
	oneLine := strings.ReplaceAll(strings.TrimSpace(want), "\n", "|")
	tests := []struct {
		name string
		in   string
	}{
		{"pem", want},
		{"pem with blanks around", "\n\n  " + want + "\n  "},
		{"pipe form", oneLine},
		{"pipe form with trailing pipe", oneLine + "|"},
		{"literal backslash-n", strings.ReplaceAll(strings.TrimSpace(want), "\n", `\n`)},
		{"crlf", strings.ReplaceAll(want, "\n", "\r\n")},
		{"quoted pipe form", `"` + oneLine + `"`},
		{"base64 of pem", base64.StdEncoding.EncodeToString([]byte(want))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(NormalizePrivateKey([]byte(tt.in)))
			if got != want {
				t.Fatalf("NormalizePrivateKey:\n got %q\nwant %q", got, want)
			}
			if _, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(got)); err != nil {
				t.Fatalf("normalized key does not parse: %v", err)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{"empty", nil, Config{}},
		{"token and enterprise url", map[string]string{"GITHUB_TOKEN": "t1", "GITHUB_API_URL": "https://ghe.example/api/v3"},
			Config{Token: "t1", BaseURL: "https://ghe.example/api/v3"}},
		{"upper-case app", map[string]string{"GITHUB_APP_ID": "12", "GITHUB_PRIVATE_KEY": "k|ey", "GITHUB_INSTALLATION_ID": "7"},
			Config{AppID: 12, PrivateKey: []byte("k|ey"), InstallationID: 7}},
		{"lambda lower-case app", map[string]string{"app_id": "34", "private_key": "abc"},
			Config{AppID: 34, PrivateKey: []byte("abc")}},
		{"upper wins over lower", map[string]string{"GITHUB_APP_ID": "1", "app_id": "2"}, Config{AppID: 1}},
		{"key file", map[string]string{"GITHUB_PRIVATE_KEY_FILE": "/k.pem"}, Config{PrivateKeyFile: "/k.pem"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if got.AppID != tt.want.AppID || got.Token != tt.want.Token || got.BaseURL != tt.want.BaseURL ||
				string(got.PrivateKey) != string(tt.want.PrivateKey) || got.PrivateKeyFile != tt.want.PrivateKeyFile ||
				got.InstallationID != tt.want.InstallationID {
				t.Fatalf("ConfigFromEnv = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNewValidation(t *testing.T) {
	key := testKeyPEM()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(keyFile, []byte(strings.ReplaceAll(string(key), "\n", "|")), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"anonymous", Config{}, ""},
		{"token", Config{Token: "x"}, ""},
		{"app", Config{AppID: 1, PrivateKey: key}, ""},
		{"app key file in pipe form", Config{AppID: 1, PrivateKeyFile: keyFile}, ""},
		{"app id without key", Config{AppID: 1}, "no private key"},
		{"key without app id", Config{PrivateKey: key}, "no app id"},
		{"garbage key", Config{AppID: 1, PrivateKey: []byte("not-a-key-SECRETISH")}, "parse GitHub App private key"},
		{"missing key file", Config{AppID: 1, PrivateKeyFile: filepath.Join(dir, "nope")}, "read GitHub App private key file"},
		{"bad url", Config{BaseURL: "ftp://x"}, "want http(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "SECRETISH") {
				t.Fatalf("error echoes key material: %v", err)
			}
		})
	}
}

func TestBaseURLNormalized(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "https://api.github.com/",
		"https://api.github.com":      "https://api.github.com/",
		"https://ghe.example/api/v3":  "https://ghe.example/api/v3/",
		"https://ghe.example/api/v3/": "https://ghe.example/api/v3/",
	} {
		c, err := New(Config{BaseURL: in, Token: "x"})
		if err != nil {
			t.Fatalf("New(%q): %v", in, err)
		}
		if c.BaseURL() != want {
			t.Errorf("BaseURL(%q) = %q, want %q", in, c.BaseURL(), want)
		}
	}
}

func TestAnonymousWarnsOnce(t *testing.T) {
	for _, tt := range []struct {
		cfg   Config
		warns int
	}{{Config{}, 1}, {Config{Token: "t"}, 0}, {Config{AppID: 1, PrivateKey: testKeyPEM()}, 0}} {
		var buf syncBuffer
		tt.cfg.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c, err := New(tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if tt.cfg.AppID == 0 { // (App discovery would go to the network)
			_, _ = c.For(context.Background(), "o", "r") // no further warning per repository
		}
		if got := strings.Count(buf.String(), "anonymous GitHub access: 60 requests/hour"); got != tt.warns {
			t.Errorf("anonymous=%v: %d warnings, want %d:\n%s", c.Anonymous(), got, tt.warns, buf.String())
		}
	}
}
