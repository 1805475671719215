package githubtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// supportedAPIVersions are the X-GitHub-Api-Version values GitHub accepts.
var supportedAPIVersions = map[string]bool{"2022-11-28": true, "2026-03-10": true}

// genericStatuses are statuses GitHub can answer on any endpoint even where
// its description does not list them (conditional requests, auth, rate
// limits, outages). Their bodies are validated against basic-error.
var genericStatuses = map[int]bool{304: true, 400: true, 401: true, 403: true, 404: true, 422: true, 429: true, 500: true, 502: true, 503: true}

const docsURL = "https://docs.github.com/rest"

// response is a buffered API response, validated before it is sent.
type response struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (r *response) json(status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		r.error(http.StatusInternalServerError, "githubtest: marshal response: "+err.Error())
		return
	}
	r.status = status
	r.header.Set("Content-Type", "application/json; charset=utf-8")
	r.body.Reset()
	r.body.Write(b)
}

func (r *response) error(status int, msg string) {
	r.json(status, map[string]string{"message": msg, "documentation_url": docsURL, "status": strconv.Itoa(status)})
}

func (r *response) notFound() { r.error(http.StatusNotFound, "Not Found") }

func (r *response) redirect(location string) {
	r.status = http.StatusFound
	r.header.Set("Location", location)
	r.body.Reset()
}

// call is one API request being served.
type call struct {
	s      *Server
	r      *http.Request
	route  string
	params map[string]string
	w      *response
	auth   authInfo
	reqID  string
}

type handlerFunc func(c *call)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqSeq++
	reqID := fmt.Sprintf("F4KE:%04X:%06X", s.reqSeq%0xFFFF, s.reqSeq)
	s.total++
	s.mu.Unlock()
	w.Header().Set("X-GitHub-Request-Id", reqID)

	if r.Method == http.MethodPost && (r.URL.Path == "/graphql" || r.URL.Path == "/api/graphql") {
		s.serveGraphQL(w, r, reqID) // graphql.go
		return
	}
	if strings.HasPrefix(r.URL.Path, "/_codeload/") || strings.HasPrefix(r.URL.Path, "/_download/") {
		s.serveOutOfContract(w, r)
		return
	}

	template, params, ok := s.contract.routes.match(r.URL.EscapedPath())
	var item *openapi3.PathItem
	var op *openapi3.Operation
	if ok {
		if item = s.contract.Doc.Paths.Value(template); item != nil {
			op = item.GetOperation(r.Method)
		}
	}
	if op == nil || handlers[r.Method+" "+template] == nil {
		key := r.Method + " " + r.URL.Path
		s.mu.Lock()
		if ok {
			// A GitHub route the fake does not implement.
			key = r.Method + " " + template
			s.unimplemented[key]++
		}
		s.counts[key]++
		s.mu.Unlock()
		s.log.Debug("githubtest: unknown route", "method", r.Method, "path", r.URL.Path)
		body := []byte(`{"message":"Not Found","documentation_url":"` + docsURL + `","status":"404"}`)
		s.writeRateHeaders(w.Header())
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		n, _ := w.Write(body)
		s.addBytes(int64(n))
		return
	}
	key := r.Method + " " + template
	s.mu.Lock()
	s.counts[key]++
	s.mu.Unlock()

	route := &routers.Route{Spec: s.contract.Doc, Path: template, PathItem: item, Method: r.Method, Operation: op}
	reqInput := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: s.contract.options}
	if nullBodyForOptional(r, op) {
		// ghinstallation (and other clients) send a JSON "null" for an
		// omitted optional body; GitHub treats it as no body.
		o := *s.contract.options
		o.ExcludeRequestBody = true
		reqInput.Options = &o
	}
	if err := openapi3filter.ValidateRequest(r.Context(), reqInput); err != nil {
		s.addViolation(Violation{Route: key, Kind: "request", Status: 0, Err: err.Error()})
	}

	resp := &response{header: http.Header{}}
	c := &call{s: s, r: r, route: key, params: params, w: resp, reqID: reqID}
	s.dispatch(c)

	s.mu.Lock()
	tamper := s.tampers[key]
	s.mu.Unlock()
	if tamper != nil {
		st, b := tamper(resp.status, resp.header, resp.body.Bytes())
		resp.status = st
		resp.body.Reset()
		resp.body.Write(b)
	}

	// Conditional requests: a strong validator over the representation.
	if resp.status == http.StatusOK && r.Method == http.MethodGet {
		etag := resp.header.Get("ETag") // a handler may choose GitHub's own validator
		if etag == "" {
			sum := sha256.Sum256(append([]byte(resp.header.Get("Content-Type")+"\x00"), resp.body.Bytes()...))
			etag = `"` + hex.EncodeToString(sum[:20]) + `"`
			resp.header.Set("ETag", etag)
		}
		if etagMatches(r.Header.Get("If-None-Match"), etag) {
			resp.status = http.StatusNotModified
			resp.body.Reset()
			resp.header.Del("Content-Type")
		}
	}

	s.validateResponse(r.Context(), key, reqInput, resp)
	s.finishRate(key, resp.status)

	w = s.cutting(w, key)
	h := w.Header()
	for k, v := range resp.header {
		h[k] = v
	}
	s.writeRateHeaders(h)
	if resp.status == http.StatusNotModified {
		s.mu.Lock()
		s.notModified++
		s.mu.Unlock()
	} else {
		h.Set("Content-Length", strconv.Itoa(resp.body.Len()))
	}
	w.WriteHeader(resp.status)
	n, _ := w.Write(resp.body.Bytes())
	s.addBytes(int64(n))
	s.log.Debug("githubtest: served", "route", key, "status", resp.status, "request_id", reqID)
}

func (s *Server) addBytes(n int64) {
	s.mu.Lock()
	s.bytesServed += n
	s.mu.Unlock()
}

// dispatch runs the pre-handler checks (API version, injected failures,
// rate limit, authentication) and then the route's handler.
func (s *Server) dispatch(c *call) {
	if v := c.r.Header.Get("X-GitHub-Api-Version"); v == "" {
		s.mu.Lock()
		s.missingAPIVer++
		s.mu.Unlock()
	} else if !supportedAPIVersions[v] {
		c.w.error(http.StatusBadRequest, fmt.Sprintf("API version %s is not supported.", v))
		return
	}
	if s.injectFailure(c) || s.primaryRateLimited(c) {
		return
	}
	h := handlers[c.route]
	if !s.authenticate(c) {
		return
	}
	h(c)
}

func (s *Server) injectFailure(c *call) bool {
	s.mu.Lock()
	var rule *failRule
	for _, f := range s.failures {
		if f.times > 0 && matchRoute(f.route, c.route) {
			f.times--
			rule = f
			break
		}
	}
	s.mu.Unlock()
	if rule == nil {
		return false
	}
	if rule.retryAfter > 0 {
		c.w.header.Set("Retry-After", strconv.Itoa(int((rule.retryAfter+time.Second-1)/time.Second)))
		c.w.json(http.StatusForbidden, map[string]string{
			"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID " + c.reqID + ".",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
			"status":            "403",
		})
		return true
	}
	msg := http.StatusText(rule.status)
	if rule.status == http.StatusInternalServerError {
		msg = "Server Error"
	}
	c.w.error(rule.status, msg)
	return true
}

// primaryRateLimited answers GitHub's rate-limit error when the budget is spent.
func (s *Server) primaryRateLimited(c *call) bool {
	if c.route == "GET /rate_limit" {
		return false
	}
	s.mu.Lock()
	if !s.rate.reset.After(time.Now()) {
		s.rate.remaining = s.rate.limit
		s.rate.reset = time.Now().Add(time.Hour)
	}
	spent := s.rate.remaining <= 0
	s.mu.Unlock()
	if !spent {
		return false
	}
	c.w.json(http.StatusForbidden, map[string]string{
		"message":           "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)",
		"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits",
		"status":            "403",
	})
	return true
}

// finishRate uses one request of the budget unless the answer was a 304,
// a rate-limit refusal, or the route is GET /rate_limit.
func (s *Server) finishRate(key string, status int) {
	if status == http.StatusNotModified || key == "GET /rate_limit" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rate.remaining > 0 {
		s.rate.remaining--
	}
}

func (s *Server) writeRateHeaders(h http.Header) {
	s.mu.Lock()
	rs := s.rate
	s.mu.Unlock()
	h.Set("X-RateLimit-Limit", strconv.Itoa(rs.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(rs.remaining))
	h.Set("X-RateLimit-Used", strconv.Itoa(rs.limit-rs.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(rs.reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
}

func etagMatches(ifNoneMatch, etag string) bool {
	if ifNoneMatch == "" {
		return false
	}
	for _, part := range strings.Split(ifNoneMatch, ",") {
		p := strings.TrimSpace(part)
		if p == "*" || strings.TrimPrefix(p, "W/") == etag {
			return true
		}
	}
	return false
}

// validateResponse checks resp against the contract and records violations.
func (s *Server) validateResponse(ctx context.Context, key string, reqInput *openapi3filter.RequestValidationInput, resp *response) {
	record := func(err error) {
		s.addViolation(Violation{Route: key, Kind: "response", Status: resp.status, Err: err.Error()})
	}
	op := reqInput.Route.Operation
	documented := op.Responses.Status(resp.status) != nil || op.Responses.Default() != nil
	if !documented {
		if !genericStatuses[resp.status] {
			record(fmt.Errorf("status %d is not documented for this operation", resp.status))
			return
		}
		if resp.status == http.StatusNotModified {
			if resp.body.Len() != 0 {
				record(fmt.Errorf("304 response has a body"))
			}
			return
		}
		if err := s.validateBasicError(resp); err != nil {
			record(err)
		}
		return
	}
	opts := *s.contract.options
	if customMediaType(resp.header.Get("Content-Type")) && op.Responses.Status(resp.status) != nil &&
		op.Responses.Status(resp.status).Value.Content.Get(resp.header.Get("Content-Type")) == nil {
		// GitHub documents custom media types (e.g. vnd.github.raw) in
		// prose, not in the description; check status and headers only.
		opts.ExcludeResponseBody = true
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqInput,
		Status:                 resp.status,
		Header:                 resp.header,
		Body:                   io.NopCloser(bytes.NewReader(resp.body.Bytes())),
		Options:                &opts,
	}
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		record(err)
	}
}

// validateBasicError checks an undocumented error response against
// GitHub's basic-error schema and requires a message.
func (s *Server) validateBasicError(resp *response) error {
	ref := s.contract.Doc.Components.Schemas["basic-error"]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("contract has no basic-error schema")
	}
	if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("error response Content-Type %q, want application/json", ct)
	}
	var v any
	if err := json.Unmarshal(resp.body.Bytes(), &v); err != nil {
		return fmt.Errorf("error response is not JSON: %w", err)
	}
	if err := ref.Value.VisitJSON(v, openapi3.MultiErrors(), openapi3.VisitAsResponse()); err != nil {
		return fmt.Errorf("error response doesn't match basic-error: %w", err)
	}
	if m, _ := v.(map[string]any)["message"].(string); m == "" {
		return fmt.Errorf("error response has no message")
	}
	return nil
}

// nullBodyForOptional reports whether r's body is the JSON literal null
// and op's request body is optional. It leaves r.Body readable.
func nullBodyForOptional(r *http.Request, op *openapi3.Operation) bool {
	if r.Body == nil || op.RequestBody == nil || op.RequestBody.Value == nil || op.RequestBody.Value.Required {
		return false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(b))
	return err == nil && string(bytes.TrimSpace(b)) == "null"
}

func customMediaType(ct string) bool {
	return strings.HasPrefix(strings.ToLower(ct), "application/vnd.github")
}
