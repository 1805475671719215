package config_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/testkit/mototest"

	. "github.com/ghsync/ghsync/internal/config"
)

// awsCLI runs the aws CLI against moto (test credentials, us-east-1).
func awsCLI(t *testing.T, endpoint string, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv(mototest.EnvRequire) == "1" {
			t.Fatalf("aws CLI not installed (needed to seed moto)")
		}
		t.Skip("SKIPPED: aws CLI not installed: secret-store resolution is not tested")
	}
	cmd := exec.Command(bin, append([]string{"--endpoint-url", endpoint, "--region", "us-east-1"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// isolateAWS points the SDK's default chain at nothing but the environment
// the test sets: no shared config files, no instance metadata.
func isolateAWS(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_SSM": "",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "",
	} {
		t.Setenv(k, v) // restored after the test
		if v == "" {
			_ = os.Unsetenv(k)
		}
	}
}

// Secrets Manager and Parameter Store (String and SecureString) resolve
// through the signed JSON calls against moto; a missing name, missing
// credentials, a missing region and an unknown parameter fail at once with
// an error naming the reference (without its query) and AWS's error code.
func TestSecretResolveFromAWSStores(t *testing.T) {
	endpoint := mototest.Start(t, "secret-store resolution is not tested")
	isolateAWS(t)
	awsCLI(t, endpoint, "secretsmanager", "create-secret", "--name", "ghsync/token", "--secret-string", "sm-secret-value\n")
	awsCLI(t, endpoint, "ssm", "put-parameter", "--name", "/ghsync/key", "--value", "ssm-secure-value", "--type", "SecureString")
	awsCLI(t, endpoint, "ssm", "put-parameter", "--name", "plain", "--value", "ssm-plain-value", "--type", "String")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q := "?region=us-east-1&endpoint=" + endpoint
	tests := []struct{ ref, want, desc string }{
		{"awssecretsmanager://ghsync/token" + q, "sm-secret-value", "awssecretsmanager://ghsync/token"},
		{"awsparamstore:///ghsync/key" + q + "&decoder=string", "ssm-secure-value", "awsparamstore:///ghsync/key"},
		{"awsparamstore://plain" + q + "&wait=1m", "ssm-plain-value", "awsparamstore://plain"},
	}
	for _, tt := range tests {
		s := NewSecret(tt.ref)
		got, err := s.Resolve(ctx)
		if err != nil {
			t.Errorf("Resolve(%s): %v", tt.ref, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Resolve(%s) = %q, want %q", tt.ref, got, tt.want)
		}
		if s.Describe() != tt.desc {
			t.Errorf("Describe = %q, want %q", s.Describe(), tt.desc)
		}
	}
	// The endpoint may come from the SDK's standard variables instead.
	t.Setenv("AWS_ENDPOINT_URL_SSM", endpoint)
	if got, err := NewSecret("awsparamstore://plain?region=us-east-1").Resolve(ctx); err != nil || got != "ssm-plain-value" {
		t.Errorf("AWS_ENDPOINT_URL_SSM: %q, %v", got, err)
	}

	fails := []struct {
		name, ref string
		want      []string
	}{
		{"missing secret", "awssecretsmanager://ghsync/missing" + q, []string{"awssecretsmanager://ghsync/missing", "ResourceNotFoundException"}},
		{"missing parameter", "awsparamstore:///ghsync/missing" + q, []string{"awsparamstore:///ghsync/missing", "ParameterNotFound"}},
		{"unknown parameter", "awsparamstore://plain" + q + "&fips=true", []string{"awsparamstore://plain", `unknown parameter "fips"`}},
		{"jsonmap decoder", "awsparamstore://plain" + q + "&decoder=jsonmap", []string{"awsparamstore://plain", "decoder=jsonmap"}},
	}
	for _, f := range fails {
		start := time.Now()
		_, err := NewSecret(f.ref).Resolve(ctx)
		t.Logf("%s: %v", f.name, err)
		if err == nil {
			t.Errorf("%s: no error", f.name)
			continue
		}
		for _, w := range f.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", f.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "endpoint=") {
			t.Errorf("%s: error shows the query: %v", f.name, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: took %v (want an answer, not a wait for the deadline)", f.name, d)
		}
	}

	// No credentials anywhere: a clear error, not a wait.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	_, err := NewSecret("awssecretsmanager://ghsync/token" + q).Resolve(ctx)
	t.Logf("no credentials: %v", err)
	if err == nil || !strings.Contains(err.Error(), "awssecretsmanager://ghsync/token") || !strings.Contains(err.Error(), "credentials") {
		t.Errorf("no credentials: err = %v", err)
	}
	// No region anywhere.
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	_, err = NewSecret("awsparamstore://plain?endpoint=" + endpoint).Resolve(ctx)
	if err == nil || !strings.Contains(err.Error(), "region") || !strings.Contains(err.Error(), "awsparamstore://plain") {
		t.Errorf("no region: err = %v", err)
	}
}

// A file:/// reference to a missing file fails at once (no wait for the
// file to appear) naming the reference.
func TestSecretStoreFileMissing(t *testing.T) {
	ref := "file://" + filepath.Join(t.TempDir(), "missing")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err := NewSecret(ref).Resolve(ctx)
	if err == nil || !strings.Contains(err.Error(), ref) || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}
