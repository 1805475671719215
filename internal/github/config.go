// Package github is ghsync's GitHub client: construction from a GitHub App,
// a plain token or nothing; installation discovery and token caching; one
// transport chain that adds the API version header, honours primary and
// secondary rate limits, retries 5xx and network failures with backoff and
// counts what it sends; and the repository operations repo sync needs.
//
// Secrets (private keys, JWTs, tokens) never appear in logs or errors.
package github

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// APIVersion is the REST API version every request asks for.
const APIVersion = "2022-11-28"

// DefaultBaseURL is the public GitHub REST API root.
const DefaultBaseURL = "https://api.github.com/"

// Config configures a Client. The zero value is anonymous access to the
// public GitHub API.
//
// Credentials are chosen in this order: a GitHub App (AppID and PrivateKey or
// PrivateKeyFile), else Token, else anonymous.
type Config struct {
	// BaseURL is the REST API root, e.g. https://api.github.com/ or, for
	// GitHub Enterprise Server, https://HOST/api/v3/. Empty means
	// DefaultBaseURL. A missing trailing slash is added.
	BaseURL string
	// AppID is the GitHub App id.
	AppID int64
	// PrivateKey is the App's private key in PEM form. The "|"-for-newline
	// form, literal "\n" escapes and base64-wrapped PEM are accepted too.
	PrivateKey []byte
	// PrivateKeyFile, when PrivateKey is empty, names a file holding the key.
	PrivateKeyFile string
	// InstallationID pins the App installation for every owner; zero means
	// discover it per repository or owner.
	InstallationID int64
	// Token is a personal access token or Actions token, used when no App is
	// configured.
	Token string
	// UserAgent is sent on every request; empty means "ghsync".
	UserAgent string
	// HTTPClient supplies the base transport (its Transport is wrapped);
	// nil means http.DefaultTransport.
	HTTPClient *http.Client
	// Logger receives debug lines per request and warnings for waits and
	// retries; nil discards.
	Logger *slog.Logger
	// MaxWait is the longest single rate-limit wait; a longer one fails with
	// an error naming the reset time. Zero means 60s.
	MaxWait time.Duration
	// MaxRetries is how many times a request is retried after a 5xx or a
	// network error. Zero means 4; negative means no retries.
	MaxRetries int
	// RetryBase is the first backoff between attempts (then doubling, with
	// jitter); zero means 500ms.
	RetryBase time.Duration
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// ConfigFromEnv builds a Config from environment variables read through
// getenv: GITHUB_TOKEN, GITHUB_APP_ID (or app_id), GITHUB_PRIVATE_KEY (or
// private_key; PEM or "|"-escaped), GITHUB_PRIVATE_KEY_FILE,
// GITHUB_INSTALLATION_ID and GITHUB_API_URL. Unparseable ids are left zero;
// New reports missing halves of an App configuration.
func ConfigFromEnv(getenv func(string) string) Config {
	first := func(keys ...string) string {
		for _, k := range keys {
			if v := strings.TrimSpace(getenv(k)); v != "" {
				return v
			}
		}
		return ""
	}
	var cfg Config
	cfg.BaseURL = first("GITHUB_API_URL")
	cfg.Token = first("GITHUB_TOKEN")
	if v := first("GITHUB_APP_ID", "app_id"); v != "" {
		cfg.AppID, _ = strconv.ParseInt(v, 10, 64)
	}
	if v := first("GITHUB_INSTALLATION_ID"); v != "" {
		cfg.InstallationID, _ = strconv.ParseInt(v, 10, 64)
	}
	if v := first("GITHUB_PRIVATE_KEY", "private_key"); v != "" {
		cfg.PrivateKey = []byte(v)
	}
	cfg.PrivateKeyFile = first("GITHUB_PRIVATE_KEY_FILE")
	return cfg
}

// NormalizePrivateKey turns the ways a PEM key is squeezed into one line back
// into PEM: "|" for newline (old Lambda configuration), literal "\n"
// escapes, CRLF line ends, surrounding quotes or blanks, and a whole PEM
// encoded in base64. Input that is already PEM is returned with only
// surrounding blanks trimmed and a final newline.
func NormalizePrivateKey(key []byte) []byte {
	s := strings.TrimSpace(string(key))
	s = strings.Trim(s, `"'`)
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "-----BEGIN") {
		compact := strings.Join(strings.Fields(s), "")
		if dec, err := base64.StdEncoding.DecodeString(compact); err == nil && strings.Contains(string(dec), "-----BEGIN") {
			s = strings.TrimSpace(string(dec))
		}
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, `\n`, "\n")
	// Base64 never contains "|", so every "|" is a flattened newline.
	s = strings.ReplaceAll(s, "|", "\n")
	lines := strings.Split(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

// normalizeBaseURL validates raw and returns it with a trailing slash.
func normalizeBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse GitHub API URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("GitHub API URL %q: want http(s)://host/...", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u, nil
}
