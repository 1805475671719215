package apisync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// tokenEarlyExpiry is how long before its expiry a Badgr token is renewed.
const tokenEarlyExpiry = 60 * time.Second

// badgrAuth holds a Badgr OAuth token obtained by the password grant
// (POST /o/token, form-encoded), renewed with the refresh token shortly before
// it expires, and renewed once more when a request is answered 401.
type badgrAuth struct {
	conf    *oauth2.Config
	ctx     context.Context // carries the HTTP client for token requests
	user    string
	pass    Secret
	sum     *Summary
	deps    Deps
	refresh string
	src     oauth2.TokenSource
}

func newBadgrAuth(ctx context.Context, deps Deps, cfg BadgrConfig, root string, sum *Summary) *badgrAuth {
	conf := &oauth2.Config{
		ClientID: cfg.ClientID,
		Endpoint: oauth2.Endpoint{TokenURL: root + "/o/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	if cfg.Scope != "" {
		conf.Scopes = strings.Fields(cfg.Scope)
	}
	a := &badgrAuth{
		conf: conf, ctx: context.WithValue(ctx, oauth2.HTTPClient, deps.HTTP),
		user: cfg.Username, pass: cfg.Password, sum: sum, deps: deps,
	}
	a.src = oauth2.ReuseTokenSourceWithExpiry(nil, grantSource{a}, tokenEarlyExpiry)
	return a
}

// token returns a valid access token, renewing it when it expires within
// tokenEarlyExpiry.
func (a *badgrAuth) token() (string, error) {
	t, err := a.src.Token()
	if err != nil {
		return "", err
	}
	return t.AccessToken, nil
}

// invalidate forgets the current access token (after a 401): the next token()
// renews it.
func (a *badgrAuth) invalidate() {
	a.src = oauth2.ReuseTokenSourceWithExpiry(nil, grantSource{a}, tokenEarlyExpiry)
}

// grantSource renews the token: refresh_token grant when there is a refresh
// token, else (or when refreshing fails) the password grant.
type grantSource struct{ a *badgrAuth }

func (g grantSource) Token() (*oauth2.Token, error) {
	a := g.a
	if a.refresh != "" {
		a.sum.TokenRequests++
		a.sum.Requests++
		t, err := a.conf.TokenSource(a.ctx, &oauth2.Token{RefreshToken: a.refresh}).Token()
		if err == nil {
			a.keep(t)
			a.deps.Logger.Debug("badgr token refreshed", "expires_in", time.Until(t.Expiry).Round(time.Second).String())
			return t, nil
		}
		a.deps.Logger.Info("badgr token refresh refused; signing in again", "err", tokenErrText(err))
	}
	var t *oauth2.Token
	var err error
	for attempt := 0; ; attempt++ {
		a.sum.TokenRequests++
		a.sum.Requests++
		t, err = a.conf.PasswordCredentialsToken(a.ctx, a.user, a.pass.Reveal())
		if err == nil || !transientTokenErr(err) || a.ctx.Err() != nil || attempt >= maxTransient {
			break
		}
		a.deps.Logger.Warn("badgr sign-in failed on the way; retrying", "err", tokenErrText(err), "attempt", attempt+1)
		if serr := a.deps.Sleep(a.ctx, time.Duration(attempt+1)*time.Second); serr != nil {
			return nil, serr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("badgr: sign in (password grant at %s): %s", a.conf.Endpoint.TokenURL, tokenErrText(err))
	}
	a.keep(t)
	a.deps.Logger.Debug("badgr signed in", "expires_in", time.Until(t.Expiry).Round(time.Second).String())
	return t, nil
}

func (a *badgrAuth) keep(t *oauth2.Token) {
	if t.RefreshToken != "" {
		a.refresh = t.RefreshToken
	}
}

// tokenErrText describes a token endpoint failure by its status and OAuth
// error code only (never the response body beyond them).
func tokenErrText(err error) string {
	if re, ok := err.(*oauth2.RetrieveError); ok {
		s := "token endpoint error"
		if re.Response != nil {
			s = fmt.Sprintf("HTTP %d", re.Response.StatusCode)
		}
		if re.ErrorCode != "" {
			s += " " + re.ErrorCode
		}
		if re.ErrorDescription != "" {
			s += ": " + re.ErrorDescription
		}
		return s
	}
	return err.Error()
}

// transientTokenErr reports whether a token request failed on the way (the
// connection, a body cut short, 5xx or 429) rather than being refused: only
// those are tried again. Signing in twice is harmless.
func transientTokenErr(err error) bool {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.Response != nil && (re.Response.StatusCode >= 500 || re.Response.StatusCode == http.StatusTooManyRequests)
	}
	return true
}
