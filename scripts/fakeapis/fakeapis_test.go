package fakeapis

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// EnvServeDir names the folder TestServe writes its exports to and serves
// until stopped; unset, TestServe only checks the seeded fakes.
const EnvServeDir = "GHSYNC_FAKEAPIS_DIR"

func TestServe(t *testing.T) {
	f := Start(t)
	dir := os.Getenv(EnvServeDir)
	if dir == "" {
		check(t, f)
		return
	}
	vars, err := f.Env(dir)
	if err != nil {
		t.Fatal(err)
	}
	exports := Exports(vars)
	// The env file appears last and whole: the script waits for it.
	if err := os.WriteFile(filepath.Join(dir, "env.tmp"), []byte(exports), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "env.tmp"), filepath.Join(dir, "env")); err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	f.Catch(ctx, dir)
	// Contract violations found while serving are reported by the fake's
	// cleanup (the test fails, and the log says which request).
}

// check asks each fake for what the examples read.
func check(t *testing.T, f *Fakes) {
	get := func(url, auth string) int {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", auth)
		req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if strings.HasPrefix(url, f.Airtable.URL()) {
			var page struct{ Records []json.RawMessage }
			_ = json.NewDecoder(resp.Body).Decode(&page)
			if len(page.Records) != len(assessments) {
				t.Errorf("airtable: %d records, want %d", len(page.Records), len(assessments))
			}
		}
		return resp.StatusCode
	}
	for _, repo := range []string{"acme/site", "acme/templates", "acme/app", "acme/docs", "brn-org/python-tpl"} {
		if c := get(f.GitHub.URL+"repos/"+repo, "token "+githubToken); c != http.StatusOK {
			t.Errorf("GET /repos/%s: %d", repo, c)
		}
	}
	if c := get(f.GitHub.URL+"repos/acme/templates/releases/latest", "token "+githubToken); c != http.StatusOK {
		t.Errorf("acme/templates has no latest release: %d", c)
	}
	if c := get(f.GitHub.URL+"repos/acme/site", "token wrong"); c != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d, want 401", c)
	}
	if c := get(f.Airtable.URL()+"/v0/"+airtableBase+"/Assessments", "Bearer "+airtableToken); c != http.StatusOK {
		t.Errorf("airtable: %d", c)
	}
	dir := t.TempDir()
	vars, err := f.Env(dir)
	if err != nil {
		t.Fatal(err)
	}
	exports := Exports(vars)
	for _, k := range []string{"GITHUB_API_URL=http://127.0.0.1:", "EMAIL_VIA=smtp://mailer:mailpass@127.0.0.1:", "SSL_CERT_FILE=" + dir} {
		if !strings.Contains(exports, "export "+k) {
			t.Errorf("exports lack %s:\n%s", k, exports)
		}
	}
}
