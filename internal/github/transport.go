package github

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

type routeKey struct{}

// WithRoute returns ctx labelled with a route template (for example
// "GET /repos/{owner}/{repo}/commits/{ref}") under which requests made with
// it are counted in Stats.ByRoute. Unlabelled requests count under their
// method and path.
func WithRoute(ctx context.Context, route string) context.Context {
	return context.WithValue(ctx, routeKey{}, route)
}

type onceKey struct{}

// Once returns ctx marking its requests as not safe to repeat (creating an
// issue or a comment): a network error or a 5xx answer is returned at once
// instead of retried, because GitHub may have acted on the first attempt
// (a 502 after the issue was created). The caller decides what to do, for
// example look for what the first attempt created. Answers GitHub gives
// before acting (401 with renewable credentials, rate limits) are still
// retried.
func Once(ctx context.Context) context.Context {
	return context.WithValue(ctx, onceKey{}, true)
}

func isOnce(ctx context.Context) bool {
	v, _ := ctx.Value(onceKey{}).(bool)
	return v
}

// authFunc returns the Authorization header value for a request to the API
// host, or "" for none.
type authFunc func(ctx context.Context) (string, error)

// transport is the one RoundTripper under everything: it adds headers and
// credentials (API host only), counts, waits for rate limits and retries.
type transport struct {
	c    *Client
	auth authFunc
	// invalidate, when set, drops cached credentials after a 401 so that
	// one retry can use fresh ones (a revoked or expired installation token).
	invalidate func()
	next       http.RoundTripper
}

// secondaryDefaultWait is GitHub's advice when a secondary limit comes
// without Retry-After: wait at least a minute.
const secondaryDefaultWait = time.Minute

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	c := t.c
	api := c.isAPIHost(req.URL)
	route := routeOf(req, api)
	where := req.Method + " " + req.URL.Path
	if !api {
		where = req.Method + " " + req.URL.Host + req.URL.Path
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	// repeatable: may an attempt GitHub may have acted on be sent again?
	repeatable := replayable && !isOnce(ctx)
	bo := &backoff.ExponentialBackOff{
		InitialInterval: c.retryBase, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: 30 * time.Second,
	}
	// The run's budget (if any) bounds the retries of every request of the
	// run together; c.maxRetries bounds this one.
	budget := RetryBudgetFrom(ctx)
	retries, waits, reauthed := 0, 0, false
	for attempt := 1; ; attempt++ {
		r, err := t.prepare(req, attempt, api)
		if err != nil {
			return nil, err
		}
		start := c.clock()
		budget.sent()
		countAttempt(ctx)
		resp, err := t.next.RoundTrip(r)
		if err != nil {
			c.stats.request(route, 0)
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s: %w", where, ctx.Err())
			}
			var d time.Duration
			refused := ""
			if retryableNetErr(err) && repeatable && retries < c.maxRetries {
				d = bo.NextBackOff()
				refused = budget.Take(c.clock(), d)
			}
			if !retryableNetErr(err) || !repeatable || retries >= c.maxRetries || refused != "" {
				switch {
				case refused != "":
					return nil, fmt.Errorf("%s (%s): %w", where, gaveUp(attempt, refused), err)
				case attempt > 1:
					return nil, fmt.Errorf("%s: gave up after %d attempts: %w", where, attempt, err)
				}
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			retries++
			c.stats.retry()
			c.log.Warn("github request failed, retrying", "request", where, "attempt", attempt, "error", err.Error(), "backoff", d)
			if err := c.sleep(ctx, d); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			continue
		}
		c.stats.request(route, resp.StatusCode)
		if api {
			c.stats.rate(resp.Header)
		}
		resp.Body = countingBody{ReadCloser: resp.Body, n: &c.stats.bytes}
		c.log.Debug("github request", "request", where, "status", resp.StatusCode, "attempt", attempt, "elapsed", c.clock().Sub(start))

		if wait, reset, secondary, limited := t.rateLimited(resp); limited {
			drain(resp)
			rl := &RateLimitError{Method: req.Method, Path: req.URL.Path, Secondary: secondary, Reset: reset, Wait: wait}
			if wait > c.maxWait {
				rl.MaxWait = c.maxWait
				return nil, rl
			}
			if waits >= max(c.maxRetries, 1) || !replayable {
				return nil, rl
			}
			waits++
			c.stats.rateWait()
			c.log.Warn("github rate limit, waiting", "request", where, "secondary", secondary, "wait", wait, "reset", reset.UTC().Format(time.RFC3339))
			if err := c.sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("%s: waiting for rate limit: %w", where, err)
			}
			continue
		}
		if resp.StatusCode == http.StatusUnauthorized && api && t.invalidate != nil && !reauthed && replayable {
			drain(resp)
			reauthed = true
			t.invalidate()
			c.log.Warn("github credentials refused, renewing the installation token once", "request", where)
			continue
		}
		if !retryableStatus(resp.StatusCode) {
			budget.answer()
			return resp, nil
		}
		refused := ""
		var d time.Duration
		if repeatable && retries < c.maxRetries {
			d = bo.NextBackOff()
			if ra, ok := retryAfter(resp.Header, c.clock()); ok && ra > d && ra <= c.maxWait {
				d = ra
			}
			refused = budget.Take(c.clock(), d)
		}
		if !repeatable || retries >= c.maxRetries || refused != "" {
			se := newStatusError(resp, "", "")
			se.Attempts, se.GaveUp = attempt, refused
			return nil, se
		}
		drain(resp)
		retries++
		c.stats.retry()
		c.log.Warn("github server error, retrying", "request", where, "status", resp.StatusCode, "attempt", attempt, "backoff", d)
		if err := c.sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	}
}

// prepare clones req for one attempt, rewinding the body and adding
// headers. Credentials and GitHub headers go to the API host only, so a
// redirect to a download host never carries the Authorization header.
func (t *transport) prepare(req *http.Request, attempt int, api bool) (*http.Request, error) {
	r := req.Clone(req.Context())
	if attempt > 1 && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("%s %s: rewind request body: %w", req.Method, req.URL.Path, err)
		}
		r.Body = body
	}
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", t.c.userAgent)
	}
	if !api {
		r.Header.Del("Authorization")
		return r, nil
	}
	if r.Header.Get("X-GitHub-Api-Version") == "" {
		r.Header.Set("X-GitHub-Api-Version", APIVersion)
	}
	if r.Header.Get("Accept") == "" {
		r.Header.Set("Accept", "application/vnd.github+json")
	}
	if t.auth != nil && r.Header.Get("Authorization") == "" {
		v, err := t.auth(req.Context())
		if err != nil {
			return nil, err
		}
		if v != "" {
			r.Header.Set("Authorization", v)
		}
	}
	return r, nil
}

// rateLimited classifies a 403/429 as a primary or secondary rate limit and
// says how long to wait. A plain 403 (permissions) is left alone; its body
// is restored if it had to be read.
func (t *transport) rateLimited(resp *http.Response) (wait time.Duration, reset time.Time, secondary, limited bool) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, time.Time{}, false, false
	}
	now := t.c.clock()
	if ra, ok := retryAfter(resp.Header, now); ok {
		return ra, now.Add(ra), true, true
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if sec, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			reset = time.Unix(sec, 0)
			wait = reset.Sub(now) + time.Second // reset is whole seconds
			return max(wait, time.Second), reset, false, true
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return secondaryDefaultWait, now.Add(secondaryDefaultWait), true, true
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if strings.Contains(strings.ToLower(string(body)), "secondary rate limit") {
		return secondaryDefaultWait, now.Add(secondaryDefaultWait), true, true
	}
	return 0, time.Time{}, false, false
}

// retryAfter parses Retry-After as seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func retryableStatus(code int) bool {
	switch code {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryableNetErr is false for cancellation and certificate problems, which
// another attempt cannot fix; other transport errors are treated as
// transient (resets, timeouts, refused connections, EOF).
func retryableNetErr(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return !errors.As(err, &cv) && !errors.As(err, &ua) && !errors.As(err, &he) && !errors.As(err, &ci)
}

// drain reads a little of an abandoned body so the connection can be
// reused, then closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func routeOf(req *http.Request, api bool) string {
	if !api {
		return req.Method + " " + req.URL.Host
	}
	if r, ok := req.Context().Value(routeKey{}).(string); ok && r != "" {
		return r
	}
	return req.Method + " " + req.URL.Path
}

// isAPIHost reports whether u points at the configured API origin.
func (c *Client) isAPIHost(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, c.base.Scheme) && strings.EqualFold(u.Host, c.base.Host)
}
