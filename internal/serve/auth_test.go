package serve_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/serve"
)

// TestEveryRouteAnonymously drives every route the server registers (plus
// the ones `ghsync serve` adds: run history, UI catch-all) as an anonymous
// caller: with a token, the public ones (receivers, health, sign-in) answer
// and every other one is 401 — so a route added later is guarded unless it
// is registered public on purpose.
func TestEveryRouteAnonymously(t *testing.T) {
	srv, err := serve.New(context.Background(), serve.Options{Addr: "0.0.0.0:8080", DatabaseURL: dbtest.SQLiteURL(t),
		Secrets: []string{"s"}, CircleCISecrets: []string{"c"}, AuthToken: "a-long-enough-serve-token"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	srv.Handle("GET /api/runs", ok)
	srv.Handle("/", ok)
	wild := regexp.MustCompile(`\{[^}]*\}`)
	public := 0
	for _, rt := range srv.Routes() {
		method, path, found := strings.Cut(rt.Pattern, " ")
		if !found {
			method, path = http.MethodGet, rt.Pattern
		}
		path = wild.ReplaceAllString(path, "x")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader("{}")))
		// The guard's 401 carries the Bearer challenge (a receiver's 401
		// for a bad signature, or a wrong sign-in, does not).
		challenged := rec.Code == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == `Bearer realm="ghsync"`
		switch {
		case rt.Public && challenged:
			t.Errorf("public route %s asked for the token", rt.Pattern)
		case !rt.Public && !challenged:
			t.Errorf("route %s answered an anonymous caller %d (WWW-Authenticate %q), want 401 asking for the token",
				rt.Pattern, rec.Code, rec.Header().Get("WWW-Authenticate"))
		}
		if rt.Public {
			public++
			if !regexp.MustCompile(`^(POST /api/(github|circleci)/webhooks|/api/github/webhooks|GET /healthz|GET /readyz|(GET|POST) /ui/login|POST /ui/logout)$`).MatchString(rt.Pattern) {
				t.Errorf("unexpected public route %s", rt.Pattern)
			}
		}
	}
	if public != 8 {
		t.Errorf("%d public routes, want 8: %+v", public, srv.Routes())
	}
}

// TestNewRefusesPublicAddressWithoutToken: New checks the exposure before it
// opens (or creates) the database.
func TestNewRefusesPublicAddressWithoutToken(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", ":8080", "[::]:8080", "192.0.2.1:8080", "example.com:8080", "host.local:80"} {
		path := filepath.Join(t.TempDir(), "x.db")
		_, err := serve.New(context.Background(), serve.Options{Addr: addr, DatabaseURL: "sqlite://" + path})
		if !errors.Is(err, serve.ErrUnprotected) || !strings.Contains(err.Error(), addr) {
			t.Errorf("%s: %v, want ErrUnprotected naming the address", addr, err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s: the refused server created its database (stat: %v)", addr, err)
		}
	}
}

func TestLoopbackOnly(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.1.2.3:1": true, "[::1]:8080": true, "localhost:8080": true, "LOCALHOST:1": true,
		"0.0.0.0:8080": false, ":8080": false, "[::]:8080": false, "10.0.0.1:8080": false, "example.com:80": false,
		"localhost.example.com:80": false, "127.0.0.1": false, "": false,
	} {
		if got := serve.LoopbackOnly(addr); got != want {
			t.Errorf("LoopbackOnly(%q) = %v, want %v", addr, got, want)
		}
	}
}
