package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// appServer registers the App endpoints on e.mux: installations for the
// given owners (lower-case owner → id; repo lookups use the owner), and a
// token exchange that issues "ghs_<n>" valid for one hour of fake time.
type appServer struct {
	mu         sync.Mutex
	discovered map[string]int // route → count
	exchanges  atomic.Int32
	jwts       []string
	tokens     []string
}

func newAppEnv(t *testing.T, installations map[string]int64, userOwners map[string]bool) (*env, *appServer) {
	t.Helper()
	e := newEnv(t, Config{AppID: 321, PrivateKey: []byte(strings.ReplaceAll(string(testKeyPEM()), "\n", "|"))})
	as := &appServer{discovered: map[string]int{}}
	checkJWT := func(w http.ResponseWriter, r *http.Request) bool {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			http.Error(w, `{"message":"no jwt"}`, http.StatusUnauthorized)
			return false
		}
		claims := &jwt.RegisteredClaims{}
		_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &testKey().PublicKey, nil },
			jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(e.clock.Now), jwt.WithIssuer("321"))
		if err != nil {
			t.Errorf("bad JWT: %v", err)
			http.Error(w, `{"message":"A JSON web token could not be decoded"}`, http.StatusUnauthorized)
			return false
		}
		if d := claims.ExpiresAt.Sub(claims.IssuedAt.Time); d > 10*time.Minute {
			t.Errorf("JWT lifetime %v exceeds GitHub's 10 minutes", d)
		}
		as.mu.Lock()
		as.jwts = append(as.jwts, raw)
		as.mu.Unlock()
		return true
	}
	install := func(kind string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !checkJWT(w, r) {
				return
			}
			owner := strings.ToLower(r.PathValue("owner"))
			as.mu.Lock()
			as.discovered[kind]++
			as.mu.Unlock()
			id, ok := installations[owner]
			if !ok || (kind == "org" && userOwners[owner]) {
				w.WriteHeader(http.StatusNotFound)
				io.WriteString(w, `{"message":"Not Found"}`)
				return
			}
			fmt.Fprintf(w, `{"id":%d,"account":{"login":%q}}`, id, owner)
		}
	}
	e.mux.HandleFunc("GET /repos/{owner}/{repo}/installation", install("repo"))
	e.mux.HandleFunc("GET /orgs/{owner}/installation", install("org"))
	e.mux.HandleFunc("GET /users/{owner}/installation", install("user"))
	e.mux.HandleFunc("POST /app/installations/{id}/access_tokens", func(w http.ResponseWriter, r *http.Request) {
		if !checkJWT(w, r) {
			return
		}
		n := as.exchanges.Add(1)
		tok := fmt.Sprintf("ghs_SECRET%d_%s", n, r.PathValue("id"))
		as.mu.Lock()
		as.tokens = append(as.tokens, tok)
		as.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_at": e.clock.Now().Add(time.Hour).Format(time.RFC3339)})
	})
	e.mux.HandleFunc("GET /repos/{owner}/{repo}/commits/{ref}", func(w http.ResponseWriter, r *http.Request) {
		as.mu.Lock()
		last := ""
		if len(as.tokens) > 0 {
			last = as.tokens[len(as.tokens)-1]
		}
		as.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+last {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"message":"Bad credentials"}`)
			return
		}
		io.WriteString(w, testSHA)
	})
	return e, as
}

func (as *appServer) count(kind string) int {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.discovered[kind]
}

func TestInstallationDiscoveryAndTokenCache(t *testing.T) {
	e, as := newAppEnv(t, map[string]int64{"o": 42}, nil)
	ctx := context.Background()
	for i := range 3 {
		r, err := e.c.For(ctx, "O", "r") // owner case differs from the cache key
		if err != nil {
			t.Fatalf("For #%d: %v", i, err)
		}
		if _, _, _, err := r.ResolveCommit(ctx, "main", ""); err != nil {
			t.Fatalf("ResolveCommit #%d: %v", i, err)
		}
	}
	if got := as.count("repo"); got != 1 {
		t.Fatalf("repo installation lookups = %d, want 1 (cached per owner)", got)
	}
	if got := as.exchanges.Load(); got != 1 {
		t.Fatalf("token exchanges = %d, want 1", got)
	}
	tok, exp, err := e.c.InstallationToken(ctx, "o")
	if err != nil {
		t.Fatal(err)
	}
	if tok != "ghs_SECRET1_42" || !exp.Equal(e.clock.Now().Truncate(time.Second).Add(time.Hour)) {
		t.Fatalf("InstallationToken = %q %v", tok, exp)
	}
	if as.exchanges.Load() != 1 || as.count("org")+as.count("user") != 0 {
		t.Fatalf("InstallationToken made new requests: exchanges %d org %d user %d", as.exchanges.Load(), as.count("org"), as.count("user"))
	}
	st := e.c.Stats()
	if st.ByRoute["POST /app/installations/{installation_id}/access_tokens"] != 1 ||
		st.ByRoute["GET /repos/{owner}/{repo}/installation"] != 1 || st.Requests != 5 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestInstallationOwnerFallsBackToUser(t *testing.T) {
	e, as := newAppEnv(t, map[string]int64{"alice": 7}, map[string]bool{"alice": true})
	tok, _, err := e.c.InstallationToken(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if tok != "ghs_SECRET1_7" || as.count("org") != 1 || as.count("user") != 1 {
		t.Fatalf("token %q org %d user %d", tok, as.count("org"), as.count("user"))
	}
}

func TestInstallationNotFound(t *testing.T) {
	e, _ := newAppEnv(t, map[string]int64{}, nil)
	_, err := e.c.For(context.Background(), "nobody", "r")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	mustContain(t, err.Error(), "GitHub App 321 is not installed on nobody")
}

func TestTokenRefreshNearExpiry(t *testing.T) {
	e, as := newAppEnv(t, map[string]int64{"o": 42}, nil)
	ctx := context.Background()
	r, err := e.c.For(ctx, "o", "r")
	if err != nil {
		t.Fatal(err)
	}
	call := func() {
		t.Helper()
		if _, _, _, err := r.ResolveCommit(ctx, "main", ""); err != nil {
			t.Fatal(err)
		}
	}
	call()
	e.clock.Advance(54 * time.Minute) // 6 min left: still cached
	call()
	if got := as.exchanges.Load(); got != 1 {
		t.Fatalf("exchanges with 6 min left = %d, want 1", got)
	}
	e.clock.Advance(2 * time.Minute) // 4 min left: refresh
	call()
	if got := as.exchanges.Load(); got != 2 {
		t.Fatalf("exchanges with 4 min left = %d, want 2", got)
	}
	if tok, _, _ := e.c.InstallationToken(ctx, "o"); tok != "ghs_SECRET2_42" {
		t.Fatalf("token after refresh = %q", tok)
	}
}

func TestConcurrentRequestsShareOneExchange(t *testing.T) {
	e, as := newAppEnv(t, map[string]int64{"o": 42}, nil)
	ctx := context.Background()
	r, err := e.c.For(ctx, "o", "r")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, _, _, err := r.ResolveCommit(ctx, "main", ""); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := as.exchanges.Load(); got != 1 {
		t.Fatalf("exchanges = %d, want 1", got)
	}
	if st := e.c.Stats(); st.Requests != 18 {
		t.Fatalf("Requests = %d, want 18 (1 discovery + 1 exchange + 16)", st.Requests)
	}
}

func TestFixedInstallationSkipsDiscovery(t *testing.T) {
	e := newEnv(t, Config{AppID: 5, PrivateKey: testKeyPEM(), InstallationID: 99})
	var path string
	e.mux.HandleFunc("POST /app/installations/{id}/access_tokens", func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"token":"ghs_x","expires_at":"2099-01-01T00:00:00Z"}`)
	})
	if _, _, err := e.c.InstallationToken(context.Background(), "anyone"); err != nil {
		t.Fatal(err)
	}
	if path != "/app/installations/99/access_tokens" || e.c.Stats().Requests != 1 {
		t.Fatalf("path %q stats %+v", path, e.c.Stats())
	}
}

func TestInstallationTokenNeedsApp(t *testing.T) {
	c, err := New(Config{Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.InstallationToken(context.Background(), "o"); err == nil || !strings.Contains(err.Error(), "no GitHub App") {
		t.Fatalf("err = %v", err)
	}
}
