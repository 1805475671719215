package awsapi

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzParseError feeds arbitrary error bodies and error-type headers (what a
// service, a proxy or anything in between may answer) to parseError: it must
// not panic, must keep the HTTP status, and must always describe the error
// (a code or a message), whatever the body holds.
func FuzzParseError(f *testing.F) {
	f.Add(400, "com.amazon.coral#ParameterNotFound:http://x", `{"__type":"ParameterNotFound","message":"no such parameter"}`)
	f.Add(404, "", `<ErrorResponse><Error><Code>NoSuchDistribution</Code><Message>gone</Message></Error><RequestId>r1</RequestId></ErrorResponse>`)
	f.Add(503, "", `<html>Service Unavailable</html>`)
	f.Add(400, "aws.protocols#Throttling", `{"Message":"slow down"}`)
	f.Add(500, "", `{`)
	f.Add(429, "#:", "")
	f.Fuzz(func(t *testing.T, status int, errType, body string) {
		if status < 100 || status > 999 {
			status = 500
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		if errType != "" {
			resp.Header.Set("X-Amzn-Errortype", errType)
		}
		e := parseError(resp, []byte(body))
		if e.Status != status {
			t.Fatalf("status %d became %d", status, e.Status)
		}
		msg := e.Error()
		if !strings.HasPrefix(msg, "HTTP ") {
			t.Fatalf("error text %q does not start with the status", msg)
		}
		if e.Code == "" && e.Message == "" && http.StatusText(status) != "" {
			t.Fatalf("no code and no message for %d %q %q", status, errType, body)
		}
	})
}
