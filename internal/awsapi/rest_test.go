package awsapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// A service's JSONVersion sets CallJSON's content type; CallRESTJSON sends
// a JSON body to the escaped path and returns the status and headers of the
// answer; a body longer than maxResponse is an error, not a cut answer.
func TestJSONVersionRESTAndLongBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.URL.Path == "/":
			_, _ = io.WriteString(w, `{"ContentType":"`+r.Header.Get("Content-Type")+`"}`)
		case r.URL.EscapedPath() == "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/policy":
			if r.Header.Get("Content-Type") != "application/json" || string(body) != `{"StatementId":"s"}` || r.Header.Get("X-Extra") != "x" {
				t.Errorf("REST-JSON request: %v %s", r.Header, body)
			}
			w.Header().Set("X-Answer", "yes")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"Statement":"{}"}`)
		case r.URL.Path == "/long":
			_, _ = io.WriteString(w, strings.Repeat("x", maxResponse+1))
		default:
			http.Error(w, "unexpected path "+r.URL.EscapedPath(), http.StatusNotFound)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")}
	ddb := Service{Name: "DynamoDB", SigningName: "dynamodb", SDKID: "DynamoDB", Host: "dynamodb", JSONVersion: "1.0"}
	for s, want := range map[Service]string{ddb: "application/x-amz-json-1.0", ssm: "application/x-amz-json-1.1"} {
		c, err := New(ctx, cfg, s, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ ContentType string }
		if err := c.CallJSON(ctx, "X.Op", struct{}{}, &out); err != nil || out.ContentType != want {
			t.Errorf("%s: content type %q, %v; want %s", s.Name, out.ContentType, err, want)
		}
	}
	c, err := New(ctx, cfg, Service{Name: "Lambda", SigningName: "lambda", SDKID: "Lambda", Host: "lambda"}, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.CallRESTJSON(ctx, http.MethodPost, "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/policy",
		http.Header{"X-Extra": {"x"}}, map[string]string{"StatementId": "s"})
	if err != nil || resp.Status != http.StatusCreated || resp.Header.Get("X-Answer") != "yes" || string(resp.Body) != `{"Statement":"{}"}` {
		t.Fatalf("REST-JSON call: %+v, %v", resp, err)
	}
	if _, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/long"}); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("long body: %v", err)
	}
}
