package awsapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

var ssm = Service{Name: "Parameter Store", SigningName: "ssm", SDKID: "SSM", Host: "ssm"}

// The standard endpoint per partition; a global service in its home region.
func TestResolveEndpointStandard(t *testing.T) {
	cf := Service{Name: "CloudFront", SigningName: "cloudfront", SDKID: "CloudFront", Host: "cloudfront", Global: true}
	for _, tt := range []struct {
		s             Service
		region, url   string
		signingRegion string
	}{
		{ssm, "eu-west-1", "https://ssm.eu-west-1.amazonaws.com", "eu-west-1"},
		{ssm, "cn-north-1", "https://ssm.cn-north-1.amazonaws.com.cn", "cn-north-1"},
		{cf, "", "https://cloudfront.amazonaws.com", "us-east-1"},
		{cf, "eu-west-1", "https://cloudfront.amazonaws.com", "us-east-1"},
		{cf, "cn-north-1", "https://cloudfront.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
	} {
		ep, err := ResolveEndpoint(context.Background(), aws.Config{Region: tt.region}, tt.s, "")
		if err != nil || ep.URL != tt.url || ep.SigningRegion != tt.signingRegion {
			t.Errorf("%s in %q: %+v, %v; want %s signed in %s", tt.s.Name, tt.region, ep, err, tt.url, tt.signingRegion)
		}
	}
	if _, err := ResolveEndpoint(context.Background(), aws.Config{}, ssm, ""); err == nil || !strings.Contains(err.Error(), "region") {
		t.Errorf("no region: %v", err)
	}
}

// A 503 and a throttling answer are retried (the SDK's standard retryer);
// a 400 with another code is not, and its code and message are kept.
func TestDoRetriesAndErrors(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/ssm/aws4_request") || r.Header.Get("X-Amz-Target") == "" {
			t.Errorf("unsigned or untargeted request: %v", r.Header)
		}
		n := calls.Add(1)
		switch {
		case strings.Contains(string(body), "missing"):
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"__type":"com.amazonaws.ssm#ParameterNotFound","message":"Parameter missing not found."}`)
		case n == 1:
			w.WriteHeader(503)
		case n == 2:
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
		default:
			_, _ = io.WriteString(w, `{"Parameter":{"Value":"v"}}`)
		}
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), RetryMaxAttempts: 3}
	c, err := New(context.Background(), cfg, ssm, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Parameter struct{ Value string } }
	if err := c.CallJSON(context.Background(), "AmazonSSM.GetParameter", map[string]string{"Name": "p"}, &out); err != nil || out.Parameter.Value != "v" || calls.Load() != 3 {
		t.Fatalf("after a 503 and a throttle: %+v, %v, %d calls (want the value on the 3rd)", out, err, calls.Load())
	}
	calls.Store(10)
	err = c.CallJSON(context.Background(), "AmazonSSM.GetParameter", map[string]string{"Name": "missing"}, &out)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "ParameterNotFound" || ae.Message != "Parameter missing not found." || calls.Load() != 11 {
		t.Fatalf("not found: %v (%d calls), want one call and the code", err, calls.Load()-10)
	}
}
