package serve

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/webutil"
)

// Paths and cookie of the browser sign-in (mounted when Options.AuthToken is
// set).
const (
	// LoginPath shows the sign-in form (GET) and checks the token (POST).
	LoginPath = "/ui/login"
	// LogoutPath ends the browser session (POST).
	LogoutPath = "/ui/logout"
	// SessionCookie holds a signed browser session: HttpOnly,
	// SameSite=Strict, Secure behind HTTPS, valid SessionTTL.
	SessionCookie = "ghsync_session"
	// SessionTTL is how long a browser session lasts after signing in.
	SessionTTL = 7 * 24 * time.Hour
	// MinTokenLength is the shortest token accepted.
	MinTokenLength = 16
)

// auth checks callers against the serve token. A caller is let in by
// "Authorization: Bearer TOKEN" or by a session cookie set by the sign-in
// form. The session value is EXPIRY.HMAC-SHA256(token, EXPIRY): it does not
// reveal the token, needs no server-side state (replicas share it) and stops
// working when the token changes. Tokens and session values are compared in
// constant time; neither is ever logged.
type auth struct {
	sum [sha256.Size]byte // SHA-256 of the token: compared, never the token itself
	key []byte            // the token, as the session HMAC key
	log *slog.Logger
	now func() time.Time
}

func newAuth(token string, log *slog.Logger) *auth {
	return &auth{sum: sha256.Sum256([]byte(token)), key: []byte(token), log: log, now: time.Now}
}

// tokenOK compares a presented token with the configured one in constant
// time (hashes of equal length, so not even the length leaks).
func (a *auth) tokenOK(got string) bool {
	s := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(s[:], a.sum[:]) == 1
}

// session returns a session value valid until exp.
func (a *auth) session(exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return e + "." + a.mac(e)
}

func (a *auth) mac(expiry string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte("ghsync-ui-session|" + expiry))
	return hex.EncodeToString(m.Sum(nil))
}

// sessionOK checks a session cookie's value: signed with the token and not
// expired.
func (a *auth) sessionOK(v string) bool {
	e, sig, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil || a.now().Unix() >= exp {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(a.mac(e)))
}

// authorized reports whether r carries the token (Bearer) or a valid session.
func (a *auth) authorized(r *http.Request) bool {
	if scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		if a.tokenOK(strings.TrimSpace(cred)) {
			return true
		}
	}
	c, err := r.Cookie(SessionCookie)
	return err == nil && a.sessionOK(c.Value)
}

// guard lets authorized requests through to h. Others get 401: a browser
// asking for a page (GET/HEAD accepting text/html) gets the sign-in form,
// which returns it to the page; every other caller a JSON error with
// WWW-Authenticate: Bearer.
func (a *auth) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.authorized(r) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="ghsync"`)
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.Contains(r.Header.Get("Accept"), "text/html") {
			renderLogin(w, http.StatusUnauthorized, loginData{Next: r.URL.RequestURI()})
			return
		}
		webutil.WriteJSON(w, http.StatusUnauthorized, map[string]string{
			"error": "unauthorized: send the serve token (serve.auth.token) as Authorization: Bearer TOKEN, or sign in at " + LoginPath})
	})
}

// loginPage answers GET LoginPath: the form, or straight back to the page
// asked for when already signed in.
func (a *auth) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if a.authorized(r) {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	renderLogin(w, http.StatusOK, loginData{Next: next})
}

// login answers POST LoginPath: a right token sets the session cookie and
// returns to the page asked for (303); a wrong one shows the form again
// (401). Cross-origin posts are refused (403).
func (a *auth) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		webutil.WriteJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin sign-in refused"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		webutil.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "bad sign-in form"})
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	if !a.tokenOK(r.PostForm.Get("token")) {
		a.log.Warn("serve: sign-in with a wrong token", "remote", r.RemoteAddr)
		renderLogin(w, http.StatusUnauthorized, loginData{Next: next, Failed: true})
		return
	}
	exp := a.now().Add(SessionTTL)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: a.session(exp), Path: "/", Expires: exp,
		MaxAge: int(SessionTTL / time.Second), HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: viaHTTPS(r)})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout answers POST LogoutPath: the session cookie is cleared.
func (a *auth) logout(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		webutil.WriteJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin sign-out refused"})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: viaHTTPS(r)})
	http.Redirect(w, r, LoginPath, http.StatusSeeOther)
}

// sameOrigin reports whether a form post comes from this server's own
// pages: no Origin header (not a browser, or an old one), or an Origin
// whose host is the request's Host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// viaHTTPS reports whether the browser reached us over HTTPS (directly, or
// through a proxy that says so), to mark the cookie Secure.
func viaHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// safeNext returns next when it is a path on this server, else /ui/, so the
// sign-in form cannot send anyone elsewhere.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(next, `/\`) || u.Scheme != "" || u.Host != "" || strings.ContainsAny(next, "\r\n\t") {
		return "/ui/"
	}
	return next
}
