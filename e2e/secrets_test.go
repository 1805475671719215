package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/cli"
	"github.com/ghsync/ghsync/internal/githubtest"
)

// Must-be-true 9: no secret (the App's private key, the JWT, installation
// tokens, a personal token) appears in any log line, error or summary of
// full runs at debug level — successful and failing ones.
func TestNoSecretsInLogsErrorsOrSummaries(t *testing.T) {
	gh := githubtest.New(t, githubtest.Options{})
	repo := gh.AddRepo("acme", "site")
	repo.Commit("main", map[string]string{"index.html": "<h1>hi</h1>", "a/b.txt": "b"})
	gh.AddInstallation("acme")
	pemOneLine := strings.ReplaceAll(strings.TrimSpace(string(gh.AppPrivateKeyPEM)), "\n", "|")
	env := map[string]string{
		"GITHUB_API_URL":     gh.URL,
		"GITHUB_APP_ID":      itoa(gh.AppID),
		"GITHUB_PRIVATE_KEY": pemOneLine,
	}
	var outputs []string
	run := func(wantCode int, args ...string) {
		// As ghsync(), with millisecond pauses between GitHub retries (the
		// failing runs retry as many times, and log each retry, as before).
		var out, errb bytes.Buffer
		code := cli.Main(context.Background(), append(args, "--log-level", "debug"), cli.Env{Stdout: &out, Stderr: &errb,
			Getenv: func(k string) string { return env[k] }, GitHubRetryBase: time.Millisecond})
		r := result{code: code, stdout: out.String(), stderr: errb.String()}
		if r.code != wantCode {
			t.Fatalf("%v: exit %d, want %d\nstderr: %s", args, r.code, wantCode, r.stderr)
		}
		outputs = append(outputs, r.stdout, r.stderr)
	}
	run(0, "sync", "github:acme/site@main", "mem://secrets-ok/", "--json")
	run(0, "sync", "github:acme/site@main", "mem://secrets-ok/", "--json") // the 304 path
	run(1, "sync", "github:acme/missing@main", "mem://secrets-fail/", "--json")
	gh.Fail("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", 500, 20)
	repo.Commit("main", map[string]string{"index.html": "<h1>changed</h1>"})
	run(1, "sync", "github:acme/site@main", "mem://secrets-ok/", "--json")

	// A personal token instead of the App.
	gh2 := githubtest.New(t, githubtest.Options{})
	gh2.Token = "ghp_personalTokenValue0123456789abcdef"
	gh2.AddRepo("acme", "site").Commit("main", map[string]string{"x": "y"})
	env = map[string]string{"GITHUB_API_URL": gh2.URL, "GITHUB_TOKEN": gh2.Token}
	run(0, "sync", "github:acme/site@main", "mem://secrets-pat/", "--json")
	env["GITHUB_TOKEN"] = "ghp_wrongTokenValue0123456789abcdefgh"
	run(1, "sync", "github:acme/site@main", "mem://secrets-pat2/", "--json")

	all := strings.Join(outputs, "\n")
	if !strings.Contains(all, "level=DEBUG") {
		t.Fatal("no debug lines were logged; the test would prove nothing")
	}
	forbidden := []string{"ghs_", "ghp_", "eyJ", "PRIVATE KEY", "Bearer ", gh2.Token}
	for _, line := range strings.Split(strings.TrimSpace(string(gh.AppPrivateKeyPEM)), "\n") {
		if !strings.HasPrefix(line, "-----") && len(line) > 20 {
			forbidden = append(forbidden, line)
		}
	}
	for _, f := range forbidden {
		if i := strings.Index(all, f); i >= 0 {
			lo, hi := max(0, i-80), min(len(all), i+80)
			t.Errorf("secret material %q appears in output: …%s…", f[:min(12, len(f))], all[lo:hi])
		}
	}
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
