package inbox

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/inbox/inboxtest"
	"github.com/ghsync/ghsync/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// Secrets used by the pipeline tests; TestNoSecretsAnywhere greps for them.
const (
	ghToken   = "ghp_SECRETgithubTOKEN123"
	smtpPass  = "smtpSECRETpassword"
	cbToken   = "cbSECRETcallbackTOKEN"
	sentryKey = "sentrySECRETkey0123456789abcdef"
	setPrefix = "E07000223/2026-05-07/2026-04-01T10:00:00Z/"
)

var bucketSeq atomic.Int64

// env is one pipeline under test: mem:// watch and final stores, the
// contract-checked fake GitHub, a real SMTP server (STARTTLS + AUTH), a
// callback endpoint and an enrichment endpoint.
type env struct {
	t       *testing.T
	gh      *githubtest.Server
	smtp    *inboxtest.SMTPServer
	cb      *inboxtest.Endpoint
	names   *inboxtest.Endpoint
	cfg     *Config
	deps    Deps
	logs    *bytes.Buffer
	watch   *store.Bucket
	final   *store.Bucket
	ledger  *MemLedger
	results []*Result
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, logs: &bytes.Buffer{}, ledger: &MemLedger{}}
	e.gh = githubtest.New(t, githubtest.Options{})
	e.gh.Token = ghToken
	e.gh.AddRepo("DemocracyClub", "UK-Polling-Stations")
	e.smtp = inboxtest.StartSMTP(t, "mailer", smtpPass)
	e.cb = inboxtest.StartEndpoint(t)
	e.names = inboxtest.StartEndpoint(t)
	e.names.Reply(200, `{"name": "Example Council", "code": "E07000223"}`)
	n := bucketSeq.Add(1)
	e.cfg = &Config{
		Name: "wdiv", Format: FormatWDIV,
		Watch:    fmt.Sprintf("mem://inbox-watch-%d", n),
		Final:    fmt.Sprintf("mem://inbox-final-%d", n),
		GitHub:   &GitHubAction{Repo: "DemocracyClub/UK-Polling-Stations"},
		Email:    &EmailAction{To: []string{"errors@example.org"}, From: "pollingstations@example.org", Via: "smtp://mailer:" + smtpPass + "@" + e.smtp.Addr},
		Callback: &CallbackAction{URL: e.cb.URL + "/api/beta/uploads/", Token: cbToken},
		Enrich:   &EnrichAction{URL: e.names.URL + "/api/beta/councils/{group}.json", Field: "name"},
	}
	gc, err := github.New(github.Config{BaseURL: e.gh.URL, Token: ghToken, HTTPClient: e.gh.Client()})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.deps = Deps{GitHub: gc, GitHubBaseURL: e.gh.URL, Ledger: e.ledger, SMTPTLS: e.smtp.ClientTLS, Logger: log, RetryBase: 1}
	ctx := context.Background()
	if e.watch, err = store.Open(ctx, e.cfg.Watch, store.Options{}); err != nil {
		t.Fatal(err)
	}
	if e.final, err = store.Open(ctx, e.cfg.Final, store.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.watch.Close(); e.final.Close() })
	return e
}

// upload puts testdata/files/NAME into the watch store under setPrefix+as.
func (e *env) upload(name, as string) {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "files", name))
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.watch.Put(context.Background(), setPrefix+as, bytes.NewReader(b), store.PutOptions{ContentType: "text/csv"}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) process(key string, opts RunOptions) *Result {
	e.t.Helper()
	res, err := ProcessSet(context.Background(), e.deps, e.cfg, key, opts)
	if err != nil {
		e.t.Fatalf("ProcessSet(%s): %v", key, err)
	}
	e.results = append(e.results, res)
	return res
}

// finalKeys lists the final store.
func (e *env) finalKeys() []string {
	e.t.Helper()
	var keys []string
	if err := e.final.List(context.Background(), func(o store.Object) error { keys = append(keys, o.Key); return nil }); err != nil {
		e.t.Fatal(err)
	}
	return keys
}

// normalize replaces the test servers' addresses with fixed ones.
func (e *env) normalize(s string) string {
	return strings.ReplaceAll(s, strings.TrimSuffix(e.gh.URL, "/"), "https://github.example")
}

// golden compares got with testdata/golden/NAME (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("golden %s: %v (run go test -update to create it)", name, err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got)) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// jsonEqual reports whether two JSON documents are equal as values.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

// callbacks returns the callback bodies received, normalized.
func (e *env) callbacks() []string {
	var out []string
	for _, r := range e.cb.Requests() {
		if got := r.Header.Get("Authorization"); got != "Token "+cbToken {
			e.t.Errorf("callback Authorization = %q; want Token <key>", got)
		}
		out = append(out, e.normalize(string(r.Body)))
	}
	return out
}

func (e *env) finalReport() []byte {
	e.t.Helper()
	b, _, err := e.final.Read(context.Background(), setPrefix+"report.json")
	if err != nil {
		e.t.Fatalf("read final report.json: %v", err)
	}
	return []byte(e.normalize(string(b)))
}

func githubtestIssue(title string, labels ...string) githubtest.Issue {
	return githubtest.Issue{Title: title, Labels: labels}
}
