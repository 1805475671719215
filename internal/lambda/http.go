package lambda

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// ServeHTTPEvent runs a Function URL / API Gateway HTTP API (payload format
// 2.0) request through h and returns the response in the same format. The
// request's raw path and query, headers (comma-joined values), cookies and
// body (base64-decoded when flagged) are passed on; the source IP becomes
// RemoteAddr. Text responses are returned as text, others base64-encoded.
func ServeHTTPEvent(ctx context.Context, h http.Handler, payload []byte) (*events.APIGatewayV2HTTPResponse, error) {
	var in events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, fmt.Errorf("decode HTTP event: %w", err)
	}
	req, err := toRequest(ctx, &in)
	if err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return toResponse(rec), nil
}

func toRequest(ctx context.Context, in *events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	body := []byte(in.Body)
	if in.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(in.Body); err != nil {
			return nil, fmt.Errorf("decode HTTP event body: %w", err)
		}
	}
	method := in.RequestContext.HTTP.Method
	if method == "" {
		method = http.MethodGet
	}
	path := in.RawPath
	if path == "" {
		path = in.RequestContext.HTTP.Path
	}
	if path == "" {
		path = "/"
	}
	target := path
	if in.RawQueryString != "" {
		target += "?" + in.RawQueryString
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build HTTP request from event: %w", err)
	}
	for k, v := range in.Headers {
		req.Header.Set(k, v)
	}
	for _, c := range in.Cookies {
		req.Header.Add("Cookie", c)
	}
	req.ContentLength = int64(len(body))
	req.Host = in.RequestContext.DomainName
	if req.Host == "" {
		req.Host = req.Header.Get("Host")
	}
	req.RequestURI = target
	if ip := in.RequestContext.HTTP.SourceIP; ip != "" {
		req.RemoteAddr = ip + ":0"
	}
	return req, nil
}

func toResponse(rec *httptest.ResponseRecorder) *events.APIGatewayV2HTTPResponse {
	res := rec.Result()
	out := &events.APIGatewayV2HTTPResponse{StatusCode: res.StatusCode, Headers: map[string]string{}}
	for k, vs := range res.Header {
		if strings.EqualFold(k, "Set-Cookie") {
			out.Cookies = append(out.Cookies, vs...)
			continue
		}
		out.Headers[k] = strings.Join(vs, ",")
	}
	body := rec.Body.Bytes()
	if isText(res.Header.Get("Content-Type"), body) {
		out.Body = string(body)
	} else {
		out.Body, out.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	return out
}

func isText(contentType string, body []byte) bool {
	ct := strings.ToLower(contentType)
	switch {
	case strings.HasPrefix(ct, "text/"), strings.Contains(ct, "json"), strings.Contains(ct, "xml"),
		strings.Contains(ct, "javascript"), strings.Contains(ct, "x-www-form-urlencoded"):
		return utf8.Valid(body)
	case ct == "":
		return utf8.Valid(body)
	}
	return false
}
