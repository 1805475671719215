package github

import (
	"context"
	"fmt"
	"github.com/ghsync/ghsync/internal/ctxtime"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	gogithub "github.com/google/go-github/v88/github"
)

// Client talks to one GitHub API (github.com or an Enterprise Server) with
// one set of credentials. It is safe for concurrent use.
type Client struct {
	base       *url.URL
	log        *slog.Logger
	clock      func() time.Time
	maxWait    time.Duration
	maxRetries int
	userAgent  string
	baseRT     http.RoundTripper
	token      string
	app        *appAuth // nil unless a GitHub App is configured

	// sleep waits between attempts; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
	// retryBase is the first backoff interval.
	retryBase time.Duration

	stats    stats
	etags    etagCache
	releases releaseMemo // release.go
}

// New validates cfg and returns a Client. It makes no request. With no
// credentials it logs one warning that access is anonymous.
func New(cfg Config) (*Client, error) {
	base, err := normalizeBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:       base,
		log:        cfg.Logger,
		clock:      cfg.Clock,
		maxWait:    cfg.MaxWait,
		maxRetries: cfg.MaxRetries,
		userAgent:  cfg.UserAgent,
		token:      cfg.Token,
		sleep:      ctxtime.Sleep,
		retryBase:  500 * time.Millisecond,
	}
	if cfg.RetryBase > 0 {
		c.retryBase = cfg.RetryBase
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	if c.maxWait <= 0 {
		c.maxWait = 60 * time.Second
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = 4
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.userAgent == "" {
		c.userAgent = "ghsync"
	}
	c.baseRT = http.DefaultTransport
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		c.baseRT = cfg.HTTPClient.Transport
	}

	key := cfg.PrivateKey
	if len(key) == 0 && cfg.PrivateKeyFile != "" {
		key, err = os.ReadFile(cfg.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("read GitHub App private key file: %w", err)
		}
	}
	switch {
	case cfg.AppID != 0 && len(key) == 0:
		return nil, fmt.Errorf("GitHub App id %d is set but no private key (GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_FILE)", cfg.AppID)
	case cfg.AppID == 0 && len(key) != 0:
		return nil, fmt.Errorf("a GitHub App private key is set but no app id (GITHUB_APP_ID)")
	case cfg.AppID != 0:
		c.app, err = newAppAuth(cfg.AppID, key, cfg.InstallationID)
		if err != nil {
			return nil, err
		}
		if cfg.Token != "" {
			c.log.Debug("GitHub App configured; the plain token is not used")
		}
		c.log.Debug("GitHub auth: app", "app_id", cfg.AppID, "api", base.String())
	case cfg.Token != "":
		c.log.Debug("GitHub auth: token", "api", base.String())
	default:
		c.log.Warn("anonymous GitHub access: 60 requests/hour; set GITHUB_TOKEN or a GitHub App for more", "api", base.String())
	}
	return c, nil
}

// Anonymous reports whether the Client has no credentials.
func (c *Client) Anonymous() bool { return c.app == nil && c.token == "" }

// BaseURL returns the API root in use, with a trailing slash.
func (c *Client) BaseURL() string { return c.base.String() }

// Stats returns a copy of the counters so far.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

// RateRemaining returns the primary rate limit left and its reset time as
// last reported by GitHub; known is false before any response carried them.
func (c *Client) RateRemaining() (remaining int, reset time.Time, known bool) {
	c.stats.mu.Lock()
	defer c.stats.mu.Unlock()
	return c.stats.remaining, c.stats.reset, c.stats.known
}

// HTTPClient returns an *http.Client authenticated for owner's resources
// (for a GitHub App: the installation on owner, discovered once and cached)
// with the full transport chain: API version and User-Agent headers, rate
// limit waits, retries and counting. Credentials are sent only to the API
// host. Use it for GraphQL or endpoints this package does not wrap.
func (c *Client) HTTPClient(ctx context.Context, owner string) (*http.Client, error) {
	return c.ownerClient(ctx, owner, "")
}

// REST returns a go-github client over HTTPClient(ctx, owner), pointed at
// the configured API root.
func (c *Client) REST(ctx context.Context, owner string) (*gogithub.Client, error) {
	hc, err := c.HTTPClient(ctx, owner)
	if err != nil {
		return nil, err
	}
	return c.rest(hc)
}

func (c *Client) rest(hc *http.Client) (*gogithub.Client, error) {
	base := c.base.String()
	gh, err := gogithub.NewClient(gogithub.WithHTTPClient(hc), gogithub.WithURLs(&base, &base), gogithub.WithUserAgent(c.userAgent))
	if err != nil {
		return nil, fmt.Errorf("GitHub REST client for %s: %w", base, err)
	}
	return gh, nil
}

func (c *Client) httpClient(auth authFunc) *http.Client {
	return &http.Client{Transport: &transport{c: c, auth: auth, next: c.baseRT}}
}

// ownerClient returns an HTTP client with the credentials for owner (and
// repo, when known, which is the cheapest way to find an App installation).
func (c *Client) ownerClient(ctx context.Context, owner, repo string) (*http.Client, error) {
	switch {
	case c.app != nil:
		id, err := c.installationFor(ctx, owner, repo)
		if err != nil {
			return nil, err
		}
		auth := func(ctx context.Context) (string, error) {
			tok, _, err := c.installationToken(ctx, id)
			if err != nil {
				return "", err
			}
			return "Bearer " + tok, nil
		}
		return &http.Client{Transport: &transport{c: c, auth: auth, next: c.baseRT,
			invalidate: func() { c.dropInstallationToken(id) }}}, nil
	case c.token != "":
		tok := c.token
		return c.httpClient(func(context.Context) (string, error) { return "Bearer " + tok, nil }), nil
	default:
		return c.httpClient(nil), nil
	}
}

// newRequest builds a request for path (relative to the API root, already
// escaped) labelled with route for the stats.
func (c *Client) newRequest(ctx context.Context, method, route, path string, body io.Reader) (*http.Request, error) {
	u := c.base.String() + path
	req, err := http.NewRequestWithContext(WithRoute(ctx, route), method, u, body)
	if err != nil {
		return nil, fmt.Errorf("build request %s %s: %w", method, path, err)
	}
	return req, nil
}

// do sends req with hc and strips the URL from transport errors (a redirect
// URL may carry a signed download token).
func do(hc *http.Client, req *http.Request) (*http.Response, error) {
	resp, err := hc.Do(req)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return nil, err
	}
	return resp, nil
}
