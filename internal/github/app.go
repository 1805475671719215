package github

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenRefreshMargin is how long before expiry a cached installation token
// is replaced. GitHub tokens live one hour.
const tokenRefreshMargin = 5 * time.Minute

// jwtLifetime is the App JWT validity (GitHub allows at most 10 minutes);
// it is reused until a minute before it ends.
const jwtLifetime = 9 * time.Minute

// appAuth holds a GitHub App's key and its caches: the JWT, the
// installation per owner and the token per installation.
type appAuth struct {
	appID          int64
	key            *rsa.PrivateKey
	installationID int64 // fixed by configuration; 0 = discover

	mu            sync.Mutex
	jwt           string
	jwtExpires    time.Time
	installations map[string]int64 // lower-case owner → installation id
	tokens        map[int64]*tokenEntry

	discoverMu sync.Mutex // one discovery at a time
}

type tokenEntry struct {
	mu      sync.Mutex // held during an exchange so concurrent callers share it
	token   string
	expires time.Time
}

func newAppAuth(appID int64, pem []byte, installationID int64) (*appAuth, error) {
	key, err := jwt.ParseRSAPrivateKeyFromPEM(NormalizePrivateKey(pem))
	if err != nil {
		// The parser's errors describe the structure, never the key bytes.
		return nil, fmt.Errorf("parse GitHub App private key (app id %d): %w", appID, err)
	}
	return &appAuth{
		appID:          appID,
		key:            key,
		installationID: installationID,
		installations:  map[string]int64{},
		tokens:         map[int64]*tokenEntry{},
	}, nil
}

// appJWT returns a signed App JWT, reusing one until a minute before expiry.
func (c *Client) appJWT() (string, error) {
	a := c.app
	now := c.clock()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.jwt != "" && now.Before(a.jwtExpires.Add(-time.Minute)) {
		return a.jwt, nil
	}
	iat := now.Add(-60 * time.Second).Truncate(time.Second) // allow for clock drift
	exp := now.Add(jwtLifetime).Truncate(time.Second)
	claims := jwt.RegisteredClaims{
		IssuedAt:  jwt.NewNumericDate(iat),
		ExpiresAt: jwt.NewNumericDate(exp),
		Issuer:    strconv.FormatInt(a.appID, 10),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(a.key)
	if err != nil {
		return "", fmt.Errorf("sign GitHub App JWT (app id %d): %w", a.appID, err)
	}
	a.jwt, a.jwtExpires = s, exp
	return s, nil
}

// appClient is an HTTP client that authenticates as the App itself (JWT).
func (c *Client) appClient() *http.Client {
	return c.httpClient(func(context.Context) (string, error) {
		j, err := c.appJWT()
		if err != nil {
			return "", err
		}
		return "Bearer " + j, nil
	})
}

// InstallationToken returns a token for the App's installation on owner
// (an organization or user), from the cache when it has more than five
// minutes left, else freshly exchanged. It fails when no GitHub App is
// configured.
func (c *Client) InstallationToken(ctx context.Context, owner string) (token string, expiresAt time.Time, err error) {
	if c.app == nil {
		return "", time.Time{}, errors.New("installation token: no GitHub App configured (GITHUB_APP_ID and GITHUB_PRIVATE_KEY)")
	}
	id, err := c.installationFor(ctx, owner, "")
	if err != nil {
		return "", time.Time{}, err
	}
	return c.installationToken(ctx, id)
}

// installationFor finds the App installation that covers owner (via repo
// when given), caching it per owner.
func (c *Client) installationFor(ctx context.Context, owner, repo string) (int64, error) {
	a := c.app
	if a.installationID != 0 {
		return a.installationID, nil
	}
	if owner == "" {
		return 0, errors.New("find GitHub App installation: owner is empty")
	}
	k := strings.ToLower(owner)
	a.mu.Lock()
	id, ok := a.installations[k]
	a.mu.Unlock()
	if ok {
		return id, nil
	}
	a.discoverMu.Lock()
	defer a.discoverMu.Unlock()
	a.mu.Lock()
	id, ok = a.installations[k]
	a.mu.Unlock()
	if ok {
		return id, nil
	}

	hc := c.appClient()
	type try struct{ route, path, what string }
	var tries []try
	if repo != "" {
		tries = append(tries, try{"GET /repos/{owner}/{repo}/installation",
			"repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/installation", "repository " + owner + "/" + repo})
	}
	tries = append(tries,
		try{"GET /orgs/{org}/installation", "orgs/" + url.PathEscape(owner) + "/installation", "organization " + owner},
		try{"GET /users/{username}/installation", "users/" + url.PathEscape(owner) + "/installation", "user " + owner})
	var lastErr error
	for _, t := range tries {
		id, err := c.getInstallation(ctx, hc, t.route, t.path, t.what)
		if err == nil {
			a.mu.Lock()
			a.installations[k] = id
			a.mu.Unlock()
			c.log.Debug("GitHub App installation found", "owner", owner, "installation_id", id, "via", t.route)
			return id, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return 0, err
		}
		lastErr = err
	}
	return 0, fmt.Errorf("GitHub App %d is not installed on %s (install it, or check the owner/repository name): %w", a.appID, owner, lastErr)
}

func (c *Client) getInstallation(ctx context.Context, hc *http.Client, route, path, what string) (int64, error) {
	req, err := c.newRequest(ctx, http.MethodGet, route, path, nil)
	if err != nil {
		return 0, err
	}
	resp, err := do(hc, req)
	if err != nil {
		return 0, fmt.Errorf("find GitHub App installation for %s: %w", what, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("find GitHub App installation for %s: %w", what, newStatusError(resp, "App installation for "+what, ""))
	}
	defer resp.Body.Close()
	var inst struct {
		ID int64 `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&inst); err != nil || inst.ID == 0 {
		return 0, fmt.Errorf("find GitHub App installation for %s: bad response (err %v)", what, err)
	}
	return inst.ID, nil
}

// installationToken returns the cached token for installation id, or
// exchanges the App JWT for a new one when it is missing or within
// tokenRefreshMargin of expiry. Concurrent callers share one exchange.
func (c *Client) installationToken(ctx context.Context, id int64) (string, time.Time, error) {
	a := c.app
	a.mu.Lock()
	e := a.tokens[id]
	if e == nil {
		e = &tokenEntry{}
		a.tokens[id] = e
	}
	a.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.token != "" && c.clock().Before(e.expires.Add(-tokenRefreshMargin)) {
		return e.token, e.expires, nil
	}
	path := "app/installations/" + strconv.FormatInt(id, 10) + "/access_tokens"
	req, err := c.newRequest(ctx, http.MethodPost, "POST /app/installations/{installation_id}/access_tokens", path, nil)
	if err != nil {
		return "", time.Time{}, err
	}
	resp, err := do(c.appClient(), req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("get installation token (installation %d): %w", id, err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", time.Time{}, fmt.Errorf("get installation token (app %d, installation %d): %w",
			a.appID, id, newStatusError(resp, fmt.Sprintf("installation %d", id), ""))
	}
	defer resp.Body.Close()
	var tok struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.Token == "" {
		// Never echo the body: it would hold the token.
		return "", time.Time{}, fmt.Errorf("get installation token (installation %d): malformed response", id)
	}
	if tok.ExpiresAt.IsZero() {
		tok.ExpiresAt = c.clock().Add(time.Hour)
	}
	e.token, e.expires = tok.Token, tok.ExpiresAt
	c.log.Debug("GitHub installation token issued", "installation_id", id, "expires_at", tok.ExpiresAt.UTC().Format(time.RFC3339))
	return e.token, e.expires, nil
}

// dropInstallationToken forgets the cached token of installation id (after
// GitHub refused it) so the next request exchanges a new one.
func (c *Client) dropInstallationToken(id int64) {
	a := c.app
	a.mu.Lock()
	e := a.tokens[id]
	a.mu.Unlock()
	if e == nil {
		return
	}
	e.mu.Lock()
	e.token, e.expires = "", time.Time{}
	e.mu.Unlock()
}
