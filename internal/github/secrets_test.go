package github

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestNoSecretsInLogsOrErrors runs App auth, successful requests, retries,
// a refused token and a signed redirect with Debug logging, then checks that
// no token, JWT, key material or signed URL appears in the log or errors.
func TestNoSecretsInLogsOrErrors(t *testing.T) {
	e, as := newAppEnv(t, map[string]int64{"o": 42}, nil)
	dl := newDownloadHost(t, "bytes")
	var flaky atomic.Int32
	e.mux.HandleFunc("GET /repos/o/r/git/blobs/{sha}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("sha") {
		case "flaky":
			if flaky.Add(1) == 1 {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			io.WriteString(w, "ok")
		case "refused":
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"message":"Bad credentials"}`)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	e.mux.HandleFunc("GET /repos/o/r/tarball/{ref}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, dl.srv.URL+"/archive?token=SIGNEDURLSECRET", http.StatusFound)
	})
	ctx := context.Background()
	var errs []string
	note := func(err error) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	r, err := e.c.For(ctx, "o", "r")
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = r.ResolveCommit(ctx, "main", "")
	note(err)
	for _, sha := range []string{"flaky", "refused", "broken"} {
		rc, err := r.Blob(ctx, sha)
		note(err)
		if rc != nil {
			io.Copy(io.Discard, rc)
			rc.Close()
		}
	}
	rc, err := r.Archive(ctx, "tarball", "main")
	note(err)
	if rc != nil {
		rc.Close()
	}
	dl.srv.Close() // the next redirect target is unreachable: its error must not carry the signed URL
	_, err = r.Archive(ctx, "tarball", "main")
	note(err)
	_, _, err = e.c.InstallationToken(ctx, "o")
	note(err)
	_, err = e.c.For(ctx, "ghost", "r")
	note(err)

	for _, e := range errs {
		t.Log(e)
	}
	if len(errs) < 4 {
		t.Fatalf("expected several failures to inspect, got %q", errs)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "level=DEBUG") || !strings.Contains(logs, "/repos/o/r/git/blobs/flaky") {
		t.Fatalf("debug log missing, got:\n%s", logs)
	}
	as.mu.Lock()
	secrets := append(append([]string{}, as.tokens...), as.jwts...)
	as.mu.Unlock()
	if len(secrets) < 2 {
		t.Fatalf("no tokens/JWTs captured: %q", secrets)
	}
	// Every JWT part and every base64 line of the key.
	for _, j := range append([]string{}, secrets...) {
		secrets = append(secrets, strings.Split(j, ".")...)
	}
	for _, line := range strings.Split(string(testKeyPEM()), "\n") {
		if len(line) > 20 && !strings.HasPrefix(line, "-----") {
			secrets = append(secrets, line)
		}
	}
	secrets = append(secrets, base64.StdEncoding.EncodeToString(testKey().D.Bytes())[:40], "SIGNEDURLSECRET", "ghs_")
	haystacks := append([]string{logs}, errs...)
	for _, s := range secrets {
		if len(s) < 4 {
			continue
		}
		for _, h := range haystacks {
			if strings.Contains(h, s) {
				t.Errorf("secret %.12q… found in %.300q", s, h)
			}
		}
	}
}
