package config_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	. "github.com/ghsync/ghsync/internal/config"
)

// startMoto starts moto_server (AWS service emulator) on a free loopback
// port and returns its endpoint, or skips the test when moto_server is not
// installed.
func startMoto(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIPPED in -short mode: needs moto_server")
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("SKIPPED: moto_server not installed; secret-store resolution is not tested")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(endpoint + "/moto-api/")
		if err == nil {
			_ = resp.Body.Close()
			return endpoint
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not start: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// awsJSON calls an AWS JSON-protocol API on moto (which routes by the
// credential scope's service and does not check signatures).
func awsJSON(t *testing.T, endpoint, service, target, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		t.Fatalf("%s: %s %s", target, resp.Status, b.String())
	}
}

func TestSecretResolveFromAWSStores(t *testing.T) {
	endpoint := startMoto(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	awsJSON(t, endpoint, "secretsmanager", "secretsmanager.CreateSecret", `{"Name":"ghsync/token","SecretString":"sm-secret-value"}`)
	awsJSON(t, endpoint, "ssm", "AmazonSSM.PutParameter", `{"Name":"/ghsync/key","Value":"ssm-secret-value","Type":"SecureString"}`)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q := "?region=us-east-1&endpoint=" + endpoint
	tests := []struct{ ref, want, desc string }{
		{"awssecretsmanager://ghsync/token" + q, "sm-secret-value", "awssecretsmanager://ghsync/token"},
		{"awsparamstore:///ghsync/key" + q + "&decoder=string", "ssm-secret-value", "awsparamstore:///ghsync/key"},
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

	// A missing secret fails within the caller's deadline, naming the reference only.
	short, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	_, err := NewSecret("awssecretsmanager://ghsync/missing" + q).Resolve(short)
	t.Logf("missing secret error: %v", err)
	if err == nil || !strings.Contains(err.Error(), "awssecretsmanager://ghsync/missing") || strings.Contains(err.Error(), "endpoint=") {
		t.Errorf("missing secret: err = %v", err)
	}
}
