package githubtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// installation is a GitHub App installation on an account.
type installation struct {
	id          int64
	account     string
	accountID   int64
	accountType string
}

// issuedToken is an installation access token the fake handed out.
type issuedToken struct {
	inst    *installation
	expires time.Time
}

// authInfo is who made a request.
type authInfo struct {
	token *issuedToken // installation token, if one was used
	app   bool         // a valid app JWT was used
}

// appRoutes need an app JWT rather than a token.
var appRoutes = map[string]bool{
	"GET /app/installations":                                  true,
	"GET /repos/{owner}/{repo}/installation":                  true,
	"GET /orgs/{org}/installation":                            true,
	"GET /users/{username}/installation":                      true,
	"POST /app/installations/{installation_id}/access_tokens": true,
}

// AddInstallation installs the app on account (an organization or user
// login) and returns the installation ID. Installation tokens issued for it
// authorize requests to that owner's repositories.
func (s *Server) AddInstallation(account string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.installations {
		if strings.EqualFold(in.account, account) {
			return in.id
		}
	}
	in := &installation{id: s.id(), account: account, accountID: s.ownerIDLocked(account), accountType: "Organization"}
	s.installations = append(s.installations, in)
	return in.id
}

// ExpireTokens makes every installation token issued so far expired, so the
// next request with one gets 401 "Bad credentials".
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tok := range s.tokens {
		tok.expires = time.Now().Add(-time.Second)
	}
}

func (c *call) unauthorized(msg string) {
	c.w.json(http.StatusUnauthorized, map[string]string{"message": msg, "documentation_url": docsURL, "status": "401"})
}

// authenticate enforces credentials; it writes a 401 and returns false when
// the request may not proceed.
func (s *Server) authenticate(c *call) bool {
	scheme, cred, _ := strings.Cut(c.r.Header.Get("Authorization"), " ")
	scheme = strings.ToLower(scheme)
	cred = strings.TrimSpace(cred)
	if appRoutes[c.route] {
		if scheme != "bearer" || cred == "" {
			c.unauthorized("A JSON web token could not be decoded")
			return false
		}
		if err := s.checkJWT(cred); err != nil {
			s.log.Debug("githubtest: rejected app JWT", "route", c.route, "err", err)
			c.unauthorized(err.Error())
			return false
		}
		c.auth.app = true
		return true
	}
	if scheme == "" {
		if s.Token != "" {
			c.unauthorized("Requires authentication")
			return false
		}
		return true
	}
	if scheme != "token" && scheme != "bearer" {
		c.unauthorized("Bad credentials")
		return false
	}
	s.mu.Lock()
	tok := s.tokens[cred]
	s.mu.Unlock()
	switch {
	case tok != nil:
		if !tok.expires.After(time.Now()) {
			c.unauthorized("Bad credentials")
			return false
		}
		c.auth.token = tok
		return true
	case s.Token != "" && cred != s.Token:
		c.unauthorized("Bad credentials")
		return false
	}
	return true
}

// checkJWT verifies an app JWT the way GitHub does: RS256 by the app key,
// iss = app ID, iat and exp present, exp in the future and at most 10
// minutes after iat.
func (s *Server) checkJWT(raw string) error {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &s.appKey.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithLeeway(60*time.Second), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return errors.New("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
		}
		return fmt.Errorf("A JSON web token could not be decoded (%v)", err)
	}
	var iss string
	switch v := claims["iss"].(type) {
	case string:
		iss = v
	case float64:
		iss = strconv.FormatInt(int64(v), 10)
	}
	if iss != strconv.FormatInt(s.AppID, 10) {
		return errors.New("'Issuer' claim ('iss') must be an Integer")
	}
	iat, err := claims.GetIssuedAt()
	if err != nil || iat == nil {
		return errors.New("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued")
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return errors.New("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
	}
	if exp.Sub(iat.Time) > 10*time.Minute {
		return errors.New("'Expiration time' claim ('exp') is too far in the future")
	}
	return nil
}

// SignAppJWT returns a JWT for the fake's app valid for ten minutes, for
// tests that call app endpoints directly.
func (s *Server) SignAppJWT() (string, error) {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iat": now.Add(-30 * time.Second).Unix(),
		"exp": now.Add(9 * time.Minute).Unix(),
		"iss": strconv.FormatInt(s.AppID, 10),
	})
	signed, err := tok.SignedString(s.appKey)
	if err != nil {
		return "", fmt.Errorf("sign app jwt: %w", err)
	}
	return signed, nil
}

func (s *Server) findInstallation(account string) *installation {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.installations {
		if strings.EqualFold(in.account, account) {
			return in
		}
	}
	return nil
}

func (s *Server) installationJSON(in *installation) map[string]any {
	return map[string]any{
		"id":                   in.id,
		"account":              s.userJSON(in.account, in.accountID, in.accountType),
		"repository_selection": "all",
		"access_tokens_url":    fmt.Sprintf("%s/app/installations/%d/access_tokens", s.base, in.id),
		"repositories_url":     s.base + "/installation/repositories",
		"html_url":             fmt.Sprintf("%s/organizations/%s/settings/installations/%d", s.base, in.account, in.id),
		"app_id":               s.AppID,
		"app_slug":             "ghsync-test",
		"target_id":            in.accountID,
		"target_type":          in.accountType,
		"permissions":          map[string]string{"contents": "read", "metadata": "read"},
		"events":               []string{"push", "release"},
		"created_at":           epoch.Format(time.RFC3339),
		"updated_at":           epoch.Format(time.RFC3339),
		"single_file_name":     nil,
		"suspended_by":         nil,
		"suspended_at":         nil,
	}
}

func hAppInstallations(c *call) {
	c.s.mu.Lock()
	list := append([]*installation(nil), c.s.installations...)
	c.s.mu.Unlock()
	out := make([]map[string]any, 0, len(list))
	for _, in := range list {
		out = append(out, c.s.installationJSON(in))
	}
	c.w.json(http.StatusOK, out)
}

func hRepoInstallation(c *call) {
	if c.s.repo(c.params["owner"], c.params["repo"]) == nil {
		c.w.notFound()
		return
	}
	hAccountInstallation(c, c.params["owner"])
}

func hOrgInstallation(c *call)  { hAccountInstallation(c, c.params["org"]) }
func hUserInstallation(c *call) { hAccountInstallation(c, c.params["username"]) }

func hAccountInstallation(c *call, account string) {
	in := c.s.findInstallation(account)
	if in == nil {
		c.w.notFound()
		return
	}
	c.w.json(http.StatusOK, c.s.installationJSON(in))
}

func hAccessToken(c *call) {
	id, err := strconv.ParseInt(c.params["installation_id"], 10, 64)
	if err != nil {
		c.w.notFound()
		return
	}
	s := c.s
	s.mu.Lock()
	var in *installation
	for _, x := range s.installations {
		if x.id == id {
			in = x
		}
	}
	if in == nil {
		s.mu.Unlock()
		c.w.notFound()
		return
	}
	var rnd [18]byte
	_, _ = rand.Read(rnd[:])
	token := "ghs_" + hex.EncodeToString(rnd[:])
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	s.tokens[token] = &issuedToken{inst: in, expires: expires}
	s.tokenExchange++
	s.mu.Unlock()
	c.w.json(http.StatusCreated, map[string]any{
		"token":                token,
		"expires_at":           expires.Format(time.RFC3339),
		"permissions":          map[string]string{"contents": "read", "metadata": "read"},
		"repository_selection": "all",
	})
}

func hRateLimit(c *call) {
	s := c.s
	s.mu.Lock()
	rs := s.rate
	s.mu.Unlock()
	core := map[string]any{"limit": rs.limit, "remaining": rs.remaining, "reset": rs.reset.Unix(), "used": rs.limit - rs.remaining}
	other := func(limit int) map[string]any {
		return map[string]any{"limit": limit, "remaining": limit, "reset": rs.reset.Unix(), "used": 0}
	}
	c.w.json(http.StatusOK, map[string]any{
		"resources": map[string]any{"core": core, "search": other(30), "graphql": other(5000)},
		"rate":      core,
	})
}
