package githubtest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-github/v88/github"
)

func TestAppInstallationTokenExchange(t *testing.T) {
	s := New(t, Options{})
	s.Token = "only-for-pat-users"
	s.AddRepo("acme", "site").Commit("main", map[string]string{"a": "b"})
	s.AddRepo("other", "thing").Commit("main", map[string]string{"a": "b"})
	instID := s.AddInstallation("acme")
	ctx := context.Background()

	// Discover the installation with the app JWT, as ghsync does.
	atr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, s.AppID, s.AppPrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	atr.BaseURL = strings.TrimSuffix(s.URL, "/")
	app := newClientWith(t, s, &http.Client{Transport: atr})
	inst, _, err := app.Apps.GetRepositoryInstallation(ctx, "acme", "site")
	if err != nil || inst.GetID() != instID {
		t.Fatalf("GetRepositoryInstallation = %v, %v; want id %d", inst, err, instID)
	}
	if _, res, err := app.Apps.GetRepositoryInstallation(ctx, "other", "thing"); err == nil || res.StatusCode != 404 {
		t.Errorf("installation for uninstalled owner: %v", err)
	}

	itr := ghinstallation.NewFromAppsTransport(atr, instID)
	client := newClientWith(t, s, &http.Client{Transport: itr})
	for i := 0; i < 3; i++ {
		repo, _, err := client.Repositories.Get(ctx, "acme", "site")
		if err != nil || repo.GetDefaultBranch() != "main" {
			t.Fatalf("repo via installation token: %v, %v", repo, err)
		}
	}
	if s.TokenExchanges() != 1 {
		t.Errorf("TokenExchanges = %d, want 1 (token reused until expiry)", s.TokenExchanges())
	}
	// The token is scoped to the installation's account.
	if _, res, err := client.Repositories.Get(ctx, "other", "thing"); err == nil || res.StatusCode != 404 {
		t.Errorf("other owner's repo with acme token: %v, want 404", err)
	}
	// Expired tokens are refused like GitHub does.
	tok, err := itr.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.ExpireTokens()
	resp, _ := do(t, s, http.MethodGet, "repos/acme/site", "Authorization", "token "+tok)
	if resp.StatusCode != 401 {
		t.Errorf("expired token: %d, want 401", resp.StatusCode)
	}
	noViolations(t, s)
}

func TestAppJWTChecks(t *testing.T) {
	s := New(t, Options{})
	s.AddInstallation("acme")
	sign := func(claims jwt.MapClaims) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(s.appKey)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now()
	good, err := s.SignAppJWT()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, auth string
		status     int
	}{
		{"valid", "Bearer " + good, 200},
		{"numeric iss", "Bearer " + sign(jwt.MapClaims{"iss": s.AppID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}), 200},
		{"none", "", 401},
		{"token scheme", "token " + good, 401},
		{"wrong iss", "Bearer " + sign(jwt.MapClaims{"iss": "1", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}), 401},
		{"too long", "Bearer " + sign(jwt.MapClaims{"iss": s.AppID, "iat": now.Unix(), "exp": now.Add(11 * time.Minute).Unix()}), 401},
		{"expired", "Bearer " + sign(jwt.MapClaims{"iss": s.AppID, "iat": now.Add(-20 * time.Minute).Unix(), "exp": now.Add(-12 * time.Minute).Unix()}), 401},
		{"no exp", "Bearer " + sign(jwt.MapClaims{"iss": s.AppID, "iat": now.Unix()}), 401},
		{"garbage", "Bearer not.a.jwt", 401},
	} {
		var hdr []string
		if tc.auth != "" {
			hdr = []string{"Authorization", tc.auth}
		}
		resp, body := do(t, s, http.MethodGet, "app/installations", hdr...)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, body, tc.status)
		}
	}
	// Wrong key.
	other, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": s.AppID, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}).SignedString([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, s, http.MethodGet, "app/installations", "Authorization", "Bearer "+other); resp.StatusCode != 401 {
		t.Errorf("HS256 JWT accepted: %d", resp.StatusCode)
	}
	noViolations(t, s)
}

func newClientWith(t *testing.T, s *Server, hc *http.Client) *github.Client {
	t.Helper()
	base := s.URL + "/" // the fake serves at the root (WithEnterpriseURLs would append api/v3/)
	c, err := github.NewClient(github.WithHTTPClient(hc), github.WithURLs(&base, &base))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
