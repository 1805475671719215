package github

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors for errors.Is; the concrete errors carry the detail.
var (
	// ErrNotFound: the repository, ref, release, asset or installation does
	// not exist (or is invisible to the credentials in use).
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: GitHub refused the credentials (401).
	ErrUnauthorized = errors.New("credentials refused")
	// ErrRateLimited: a rate-limit wait would exceed Config.MaxWait, or the
	// limit persisted after waiting.
	ErrRateLimited = errors.New("rate limited")
)

// StatusError is an unexpected HTTP status from GitHub. Its message names
// the request (method and path, never the query or any credential), the
// status, GitHub's message and, for 404s, what was not found.
type StatusError struct {
	Method     string
	Path       string
	StatusCode int
	// Message is GitHub's "message" field, if the body had one.
	Message string
	// What names the missing or refused thing, e.g. `repository octo/cat`.
	What string
	// Hint is advice appended to the message (e.g. about private repos).
	Hint string
	// Attempts is how many times the request was sent (1 without retries).
	Attempts int
	// GaveUp says why it was not retried further when the run's
	// RetryBudget refused ("" when the request's own cap ended it).
	GaveUp string
}

// Error implements error.
func (e *StatusError) Error() string {
	var b strings.Builder
	req := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		req += ": " + e.Message
	}
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		fmt.Fprintf(&b, "GitHub refused the credentials (%s)", req)
	case e.notFound() && e.What != "":
		fmt.Fprintf(&b, "%s not found (%s)", e.What, req)
	default:
		b.WriteString(req)
	}
	switch {
	case e.GaveUp != "":
		b.WriteString(" (" + gaveUp(e.Attempts, e.GaveUp) + ")")
	case e.Attempts > 1:
		fmt.Fprintf(&b, " (gave up after %d attempts)", e.Attempts)
	}
	if e.Hint != "" {
		b.WriteString("; " + e.Hint)
	}
	return b.String()
}

func (e *StatusError) notFound() bool {
	return e.StatusCode == http.StatusNotFound ||
		e.StatusCode == http.StatusUnprocessableEntity && strings.Contains(strings.ToLower(e.Message), "no commit found")
}

// Is reports ErrNotFound for 404 (and GitHub's 422 "No commit found") and
// ErrUnauthorized for 401.
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.notFound()
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	}
	return false
}

// RateLimitError means GitHub asked ghsync to wait longer than
// Config.MaxWait, or kept refusing after the allowed waits.
type RateLimitError struct {
	Method, Path string
	// Secondary is true for a secondary (abuse) limit, false for the
	// primary hourly quota.
	Secondary bool
	// Reset is when GitHub said requests may resume.
	Reset time.Time
	// Wait is how long that was from the time of the response.
	Wait time.Duration
	// MaxWait is the configured ceiling that Wait exceeded (zero when the
	// limit persisted after waiting).
	MaxWait time.Duration
}

// Error implements error.
func (e *RateLimitError) Error() string {
	kind := "primary rate limit exhausted"
	if e.Secondary {
		kind = "secondary rate limit hit"
	}
	msg := fmt.Sprintf("GitHub %s on %s %s; requests may resume at %s (in %s)",
		kind, e.Method, e.Path, e.Reset.UTC().Format(time.RFC3339), e.Wait.Round(time.Second))
	if e.MaxWait > 0 {
		msg += fmt.Sprintf(", longer than the maximum wait of %s", e.MaxWait)
	} else {
		msg += ", still limited after waiting"
	}
	return msg
}

// Is reports ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// newStatusError reads (a bounded part of) resp's body for GitHub's message,
// closes it, and returns a StatusError describing what was not found.
func newStatusError(resp *http.Response, what, hint string) *StatusError {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	var m struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &m)
	msg := m.Message
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	e := &StatusError{
		Method:     resp.Request.Method,
		Path:       resp.Request.URL.Path,
		StatusCode: resp.StatusCode,
		Message:    msg,
		What:       what,
		Attempts:   1,
	}
	if e.notFound() {
		e.Hint = hint
	}
	return e
}

// gaveUp says why a request failing after attempts was not retried further.
func gaveUp(attempts int, why string) string {
	if attempts <= 1 {
		return "not retried: " + why
	}
	return fmt.Sprintf("gave up after %d attempts: %s", attempts, why)
}
