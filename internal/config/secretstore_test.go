package config_test

import (
	"bytes"
	"context"
	"github.com/ghsync/ghsync/internal/testkit/mototest"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/ghsync/ghsync/internal/config"
)

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
	endpoint := mototest.Start(t, "secret-store resolution is not tested")
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
