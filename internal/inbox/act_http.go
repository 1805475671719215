package inbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// rawJSON makes an encoded document print as JSON inside a Result.
func rawJSON(b []byte) json.RawMessage { return json.RawMessage(b) }

// callback POSTs the report document to callback.url with
// "Authorization: Token <token>", retrying 5xx answers and network errors
// with exponential backoff. Without a token it logs the request instead.
func (j *job) callback(ctx context.Context, deps *Deps, doc []byte, opts RunOptions) ActionResult {
	cb := j.cfg.Callback
	if cb == nil || cb.URL == "" {
		return ActionResult{Action: ActionCallback, Status: StatusSkipped, Detail: "callback is not configured"}
	}
	a := ActionResult{Action: ActionCallback, Target: redactURLString(cb.URL)}
	switch {
	case opts.DryRun:
		a.Status, a.Payload = StatusDryRun, rawJSON(doc)
		return a
	case cb.Token == "":
		a.Status, a.Payload, a.Detail = StatusNoCredential, rawJSON(doc), "callback.token is not set: POST not sent"
		return a
	}
	attempts := cb.Attempts
	if attempts == 0 {
		attempts = 5
	}
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = deps.RetryBase
	bo.MaxInterval = 30 * deps.RetryBase
	tries := 0
	op := func() (struct{}, error) {
		tries++
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, cb.URL, bytes.NewReader(doc))
		if err != nil {
			return struct{}{}, backoff.Permanent(fmt.Errorf("build request: %w", err))
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token "+cb.Token)
		resp, err := noRedirects(deps.HTTP).Do(req)
		if err != nil {
			return struct{}{}, fmt.Errorf("POST %s: %w", a.Target, stripURLError(err))
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			return struct{}{}, backoff.Permanent(redirectError("POST "+a.Target, resp))
		case resp.StatusCode >= 500:
			return struct{}{}, fmt.Errorf("POST %s: %s", a.Target, resp.Status)
		case resp.StatusCode >= 300:
			return struct{}{}, backoff.Permanent(fmt.Errorf("POST %s: %s: %s", a.Target, resp.Status, strings.TrimSpace(string(body))))
		}
		return struct{}{}, nil
	}
	_, err := backoff.Retry(ctx, op, backoff.WithBackOff(bo), backoff.WithMaxTries(uint(attempts)))
	if err != nil {
		a.Status, a.Error = StatusFailed, fmt.Sprintf("%v (after %d attempts)", err, tries)
		return a
	}
	a.Status, a.Detail = StatusDone, fmt.Sprintf("%d attempt(s)", tries)
	return a
}

// noRedirects returns a copy of hc that does not follow redirects: an
// action's request is answered by the URL it was configured with. (Go's
// client turns a 301/302/303 POST into a GET without the body, whose 200
// would count as done; a 307/308 would resend the credentials to wherever
// the Location points.) The caller treats a 3xx answer as a failure.
func noRedirects(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// redirectError is the failure of an action request answered with a
// redirect: it names the Location (credentials removed) and what to set.
func redirectError(what string, resp *http.Response) error {
	loc := resp.Header.Get("Location")
	if loc == "" {
		loc = "(no Location header)"
	} else if u, err := resp.Request.URL.Parse(loc); err == nil {
		loc = redactURL(u)
	}
	return fmt.Errorf("%s: %s: redirect to %s not followed (the request must reach the configured URL itself: set the URL to the redirect's target)",
		what, resp.Status, loc)
}

// stripURLError drops the URL from a transport error (it may carry a query
// secret); the caller names the redacted target.
func stripURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// enrich fetches the group's display name from enrich.url, reading
// enrich.field (default "name"); on any error the group code is used.
func (j *job) enrich(ctx context.Context, deps *Deps, rep *Report, acts []ActionResult) (string, []ActionResult) {
	group := rep.Group()
	en := j.cfg.Enrich
	if en == nil || j.enrichURL == nil {
		return group, acts
	}
	vars := templateVars(rep)
	u := j.enrichURL.Render(vars)
	a := ActionResult{Action: ActionEnrich, Target: redactURLString(u)}
	name, err := fetchField(ctx, deps.HTTP, u, en.Field)
	if err != nil {
		deps.Logger.Warn("inbox: enrichment failed; using the group code", "url", a.Target, "error", err)
		a.Status, a.Detail = StatusSkipped, fmt.Sprintf("using the group code %q: %v", group, err)
		return group, append(acts, a)
	}
	a.Status, a.Detail = StatusDone, name
	return name, append(acts, a)
}

func fetchField(ctx context.Context, hc *http.Client, u, field string) (string, error) {
	if field == "" {
		field = "name"
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", stripURLError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET: %s", resp.Status)
	}
	var v any
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&v); err != nil {
		return "", fmt.Errorf("decode JSON: %w", err)
	}
	for _, part := range strings.Split(field, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "", fmt.Errorf("no field %q", field)
		}
		v = m[part]
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", fmt.Errorf("field %q is not a non-empty string", field)
	}
	return s, nil
}
