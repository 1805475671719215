package serve_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/testkit"
)

// serveToken is a serve token of the tests (long enough to be accepted).
const serveToken = "0123456789abcdef-serve-test-token"

// ghsyncServe is a `ghsync serve` process of the built binary.
type ghsyncServe struct {
	cmd  *exec.Cmd
	out  *testkit.SyncBuffer
	done chan error
	dir  string
}

// startServe runs the built binary's `ghsync serve --addr addr` in a fresh
// directory holding config (when not empty) as ghsync.yaml, with exactly env
// (plus PATH and HOME). It is stopped with SIGTERM at cleanup.
func startServe(t *testing.T, addr, config string, env ...string) *ghsyncServe {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the ghsync binary; skipped with -short")
	}
	bin := testkit.Ghsync(t)
	dir := t.TempDir()
	args := []string{"serve", "--addr", addr}
	if config != "" {
		if err := os.WriteFile(filepath.Join(dir, "ghsync.yaml"), []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", filepath.Join(dir, "ghsync.yaml"))
	}
	s := &ghsyncServe{cmd: exec.Command(bin, args...), out: &testkit.SyncBuffer{}, done: make(chan error, 1), dir: dir}
	s.cmd.Dir = dir
	s.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("serve output:\n%s", s.out.String())
		}
	})
	return s
}

// exitCode waits for the process to end by itself and returns its exit
// status; it fails the test when serve is still running after a minute.
func (s *ghsyncServe) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(time.Minute):
		t.Fatalf("serve is still running, want it to refuse to start")
		return -1
	}
}

// ready waits until base answers /readyz (an open route), failing if the
// process exits first.
func (s *ghsyncServe) ready(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("serve exited: %v", err)
		default:
		}
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("serve not ready after a minute")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freePort returns a TCP port free on every interface.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// TestServeRefusesPublicAddressWithoutToken: on 0.0.0.0, :PORT or [::]
// without a token and without the opt-out, `ghsync serve` exits 2 before
// opening anything, naming the key to set, the environment variable and the
// opt-out.
func TestServeRefusesPublicAddressWithoutToken(t *testing.T) {
	for _, host := range []string{"0.0.0.0", "", "[::]"} {
		t.Run("host="+host, func(t *testing.T) {
			s := startServe(t, host+":"+freePort(t), "")
			if code := s.exitCode(t); code != 2 {
				t.Fatalf("exit %d, want 2\n%s", code, s.out.String())
			}
			out := s.out.String()
			for _, want := range []string{"not loopback-only", "serve.auth.token", "GHSYNC_SERVE_TOKEN", "Authorization: Bearer", "serve.auth.insecure_public_read: true"} {
				if !strings.Contains(out, want) {
					t.Errorf("message lacks %q:\n%s", want, out)
				}
			}
			if _, err := os.Stat(filepath.Join(s.dir, "data")); !os.IsNotExist(err) {
				t.Errorf("a refused start created ./data (stat: %v)", err)
			}
		})
	}
}

// TestServeInsecurePublicReadOptOut: with serve.auth.insecure_public_read
// serve starts on 0.0.0.0, warns loudly, and the read API is open.
func TestServeInsecurePublicReadOptOut(t *testing.T) {
	port := freePort(t)
	s := startServe(t, "0.0.0.0:"+port, "serve:\n  auth:\n    insecure_public_read: true\n")
	base := "http://127.0.0.1:" + port
	s.ready(t, base)
	if out := s.out.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "INSECURE") || !strings.Contains(out, "insecure_public_read") {
		t.Errorf("no loud warning at start:\n%s", out)
	}
	if code, body := getWith(t, base+"/api/deliveries", nil); code != http.StatusOK {
		t.Errorf("GET /api/deliveries with the opt-out: %d %s", code, body)
	}
}

// guardedTargets are the routes of `ghsync serve` that need the token.
var guardedTargets = []string{"/api/deliveries", "/api/deliveries?limit=5", "/api/events/issues", "/api/runs",
	"/metrics", "/ui/", "/ui/deliveries", "/ui/jobs/nope", "/ui/assets/ui.css", "/", "/no/such/page"}

// TestServeTokenGuardsReadAPIUIAndMetrics: with a token (from the config's
// serve.auth.token or from GHSYNC_SERVE_TOKEN) serve starts on 0.0.0.0; the
// read API, UI pages and /metrics answer 401 to an anonymous caller or a
// wrong token and 200 with the token; the webhook receiver and health stay
// open; the browser sign-in sets an HttpOnly, SameSite=Strict session
// cookie; the token is never logged.
func TestServeTokenGuardsReadAPIUIAndMetrics(t *testing.T) {
	for name, start := range map[string]func(t *testing.T, addr string) *ghsyncServe{
		"config": func(t *testing.T, addr string) *ghsyncServe {
			return startServe(t, addr, "serve:\n  auth:\n    token: ${TOK}\nwebhooks:\n  secrets: [\"${HOOK}\"]\n",
				"TOK="+serveToken, "HOOK=hook-secret")
		},
		"environment": func(t *testing.T, addr string) *ghsyncServe {
			return startServe(t, addr, "", "GHSYNC_SERVE_TOKEN="+serveToken, "GHSYNC_WEBHOOK_SECRET=hook-secret")
		},
	} {
		t.Run(name, func(t *testing.T) {
			port := freePort(t)
			s := start(t, "0.0.0.0:"+port)
			base := "http://127.0.0.1:" + port
			s.ready(t, base)
			checkGuarded(t, base)
			if strings.Contains(s.out.String(), serveToken) {
				t.Errorf("the serve token was logged:\n%s", s.out.String())
			}
		})
	}
}

// checkGuarded drives base's routes anonymously, with a wrong token, with
// the token and through the browser sign-in.
func checkGuarded(t *testing.T, base string) {
	t.Helper()
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	for _, target := range guardedTargets {
		for who, h := range map[string]http.Header{"anonymous": nil, "wrong token": bearer(serveToken + "x"),
			"browser": {"Accept": {"text/html"}}, "basic": {"Authorization": {"Basic " + serveToken}}} {
			code, body := getWith(t, base+target, h)
			if code != http.StatusUnauthorized {
				t.Errorf("%s GET %s: %d, want 401: %.200s", who, target, code, body)
			}
			if who == "browser" && !strings.Contains(body, `action="/ui/login"`) {
				t.Errorf("browser GET %s: 401 without the sign-in form: %.300s", target, body)
			}
		}
		want := http.StatusOK
		if target == "/" {
			want = http.StatusSeeOther
		} else if strings.HasPrefix(target, "/ui/jobs/") || target == "/no/such/page" {
			want = http.StatusNotFound
		}
		if code, body := getWith(t, base+target, bearer(serveToken)); code != want {
			t.Errorf("GET %s with the token: %d, want %d: %.200s", target, code, want, body)
		}
	}
	for _, target := range []string{"/healthz", "/readyz", "/ui/login"} {
		if code, body := getWith(t, base+target, nil); code != http.StatusOK {
			t.Errorf("anonymous GET %s: %d, want 200: %.200s", target, code, body)
		}
	}
	body := []byte(`{"zen":"Practicality beats purity.","hook_id":1}`)
	mac := hmac.New(sha256.New, []byte("hook-secret"))
	mac.Write(body)
	req, _ := http.NewRequest("POST", base+"/api/github/webhooks", bytes.NewReader(body))
	req.Header = http.Header{"X-Github-Event": {"ping"}, "X-Github-Delivery": {"d-open"}, "Content-Type": {"application/json"},
		"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}}
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode/100 != 2 {
		t.Errorf("signed delivery without the serve token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	checkSignIn(t, base)
}

// checkSignIn signs in through the form as a browser would.
func checkSignIn(t *testing.T, base string) {
	t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(form url.Values, origin string) *http.Response {
		req, _ := http.NewRequest("POST", base+"/ui/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if r := post(url.Values{"token": {"wrong-token-wrong-token"}, "next": {"/ui/deliveries"}}, base); r.StatusCode != 401 || len(r.Cookies()) != 0 {
		t.Errorf("sign-in with a wrong token: %d, cookies %v", r.StatusCode, r.Cookies())
	}
	if r := post(url.Values{"token": {serveToken}}, "https://evil.example"); r.StatusCode != 403 || len(r.Cookies()) != 0 {
		t.Errorf("cross-origin sign-in: %d, cookies %v", r.StatusCode, r.Cookies())
	}
	if r := post(url.Values{"token": {serveToken}, "next": {"https://evil.example/"}}, base); r.Header.Get("Location") != "/ui/" {
		t.Errorf("sign-in with an off-site next: Location %q, want /ui/", r.Header.Get("Location"))
	}
	r := post(url.Values{"token": {serveToken}, "next": {"/ui/deliveries"}}, base)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/ui/deliveries" {
		t.Fatalf("sign-in: %d Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == "ghsync_session" {
			session = c
		}
	}
	setCookie := r.Header.Get("Set-Cookie")
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || strings.Contains(setCookie, serveToken) {
		t.Fatalf("session cookie: %q", setCookie)
	}
	cookie := http.Header{"Cookie": {session.Name + "=" + session.Value}}
	for _, target := range []string{"/ui/", "/ui/deliveries", "/metrics", "/api/deliveries"} {
		if code, body := getWith(t, base+target, cookie); code != http.StatusOK {
			t.Errorf("GET %s with the session cookie: %d %.200s", target, code, body)
		}
	}
	if code, body := getWith(t, base+"/ui/", cookie); !strings.Contains(body, `action="/ui/logout"`) {
		t.Errorf("signed-in page without a sign-out button: %d %.300s", code, body)
	}
	forged := http.Header{"Cookie": {session.Name + "=9999999999." + strings.Repeat("0", 64)}}
	if code, _ := getWith(t, base+"/ui/", forged); code != http.StatusUnauthorized {
		t.Errorf("forged session cookie: %d, want 401", code)
	}
}

// getWith fetches url with headers h (redirects not followed) and returns the
// status and body.
func getWith(t *testing.T, url string, h http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
