package store

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// gcsRetries is how many times a failed Cloud Storage request is sent again.
const gcsRetries = 3

// gcsUploadRetryDeadline bounds the retries of one upload request (a
// one-request upload, the start of a resumable upload, one chunk): the
// default of the generated JSON API client the driver used before
// (google.golang.org/api/internal/gensupport, 32 s).
const gcsUploadRetryDeadline = 32 * time.Second

// gcsRetryTransport sends a Cloud Storage request again, after a growing
// pause, when it failed in a way worth retrying (a dropped or refused
// connection, 408, 429 or 5xx), as Google's client libraries do
// (https://cloud.google.com/storage/docs/retry-strategy). Only the requests that are safe to repeat go through here: reads,
// listings, deletes (a repeated delete of a deleted object is "not found",
// which Delete ignores) and rewrites. Uploads are retried by
// gcsAPI.sendUpload.
type gcsRetryTransport struct {
	base  http.RoundTripper
	pause time.Duration // the first pause (doubled each time)
}

// gcsUserAgent identifies ghsync in Cloud Storage requests.
const gcsUserAgent = "ghsync (+https://github.com/ghsync/ghsync)"

func (t *gcsRetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" { // say who calls, as the generated client did
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", gcsUserAgent)
	}
	if !gcsRetryable(req) {
		return t.base.RoundTrip(req)
	}
	pauses := backoff.NewExponentialBackOff() // the project's one backoff schedule (as github.Transport's)
	pauses.InitialInterval, pauses.Multiplier, pauses.RandomizationFactor = t.pause, 2, 0.25
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(req.Context())
			r.Body = body
		}
		resp, err := t.base.RoundTrip(r)
		if attempt == gcsRetries || !gcsTransient(resp, err) || req.Context().Err() != nil {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-time.After(pauses.NextBackOff()):
		}
	}
}

// gcsRetryable reports whether req is one gcsRetryTransport may repeat.
func gcsRetryable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodDelete:
		return true
	case http.MethodPost:
		return strings.Contains(req.URL.Path, "/rewriteTo/") && req.GetBody != nil
	}
	return false
}

// gcsTransient reports a failure worth retrying.
func gcsTransient(resp *http.Response, err error) bool {
	if err != nil {
		return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
			errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) || isTimeout(err)
	}
	switch c := resp.StatusCode; {
	case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests, c >= 500:
		return true
	}
	return false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// sendUpload sends the request mk builds (an upload request whose body mk
// can build again) and builds and sends it again, after a growing pause,
// while it fails in a way worth retrying (gcsTransient) and
// gcsUploadRetryDeadline has not passed, as the generated JSON API client
// retried uploads (its WithRetry default). It returns the last answer,
// whatever its status: the caller checks it.
func (a *gcsAPI) sendUpload(ctx context.Context, mk func() (*http.Request, error)) (*http.Response, error) {
	pauses := backoff.NewExponentialBackOff()
	pauses.InitialInterval, pauses.Multiplier, pauses.RandomizationFactor = a.pause, 2, 0.25
	pauses.MaxInterval = 30 * time.Second
	deadline := time.Now().Add(gcsUploadRetryDeadline)
	for {
		req, err := mk()
		if err != nil {
			return nil, err
		}
		resp, err := a.hc.Do(req)
		if !gcsTransient(resp, err) || ctx.Err() != nil {
			return resp, err
		}
		pause := pauses.NextBackOff()
		if time.Now().Add(pause).After(deadline) {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
	}
}
