//go:build integration

package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/inbox"
	"github.com/ghsync/ghsync/internal/inbox/inboxtest"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

// TestDropInInboxLambda: the original inbox Lambda's environment alone (no
// config file) defines the inbox job, and the function handles the
// original's S3 event with it: the set is checked, promoted to the final
// bucket and called back; the same event redelivered does nothing (the
// processed-set record lives in the final bucket: Lambda's /tmp database does
// not survive).
func TestDropInInboxLambda(t *testing.T) {
	watchURL, finalURL := s3test.Bucket(t), s3test.Bucket(t)
	var mu sync.Mutex
	var callbacks []string
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			callbacks = append(callbacks, r.Header.Get("Authorization")+" "+string(b))
			mu.Unlock()
		}
		if strings.HasPrefix(r.URL.Path, "/api/beta/councils/") {
			http.NotFound(w, r) // enrichment falls back to the group code
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer cb.Close()
	env := map[string]string{
		"TEMP_BUCKET_NAME": watchURL, "FINAL_BUCKET_NAME": finalURL, "GITHUB_REPO": "DemocracyClub/UK-Polling-Stations",
		"WDIV_WEBHOOK_URL": cb.URL + "/api/upload/", "WDIV_API_KEY": "wdiv-key", "HOME": t.TempDir(),
		"AWS_ACCESS_KEY_ID": os.Getenv("AWS_ACCESS_KEY_ID"), "AWS_SECRET_ACCESS_KEY": os.Getenv("AWS_SECRET_ACCESS_KEY"),
	}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	cfg, source, err := LoadConfig(ctx, getenv, "")
	if err != nil {
		t.Fatal(err)
	}
	if source != "embedded defaults" || len(cfg.Jobs) != 1 || cfg.Jobs[0].Kind != "inbox" {
		t.Fatalf("config from %s: %+v", source, cfg.Jobs)
	}
	watch, err := store.Open(ctx, watchURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	const set = "E07000223/2026-05-07/1700000000/"
	var records []string
	for _, f := range []string{"dc_districts.csv", "dc_stations.csv"} {
		b, err := os.ReadFile(filepath.Join("..", "inbox", "testdata", "files", f))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := watch.Put(ctx, set+f, bytes.NewReader(b), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		bucket, _, _ := store.BucketOf(watchURL)
		records = append(records, `{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"`+bucket+`"},"object":{"key":"`+url.QueryEscape(set+f)+`"}}}`)
	}
	h := New(cfg, nil, getenv)
	defer h.Close(ctx)
	event := []byte(`{"Records":[` + strings.Join(records, ",") + `]}`)
	out, err := h.Invoke(ctx, event)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var resp Response
	if err := json.Unmarshal(out, &resp); err != nil || resp.Job != "inbox" || !resp.Changed {
		t.Fatalf("response %s (%v)", out, err)
	}
	mu.Lock()
	n := len(callbacks)
	first := ""
	if n > 0 {
		first = callbacks[0]
	}
	mu.Unlock()
	if n != 1 || !strings.HasPrefix(first, "Token wdiv-key ") {
		t.Fatalf("callbacks %d %q; want one with Authorization: Token", n, first)
	}
	final, err := store.Open(ctx, finalURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer final.Close()
	if _, _, err := final.Read(ctx, set+"dc_stations.csv"); err != nil {
		t.Errorf("not promoted to the final bucket: %v", err)
	}
	// Redelivered: nothing done again.
	out, err = h.Invoke(ctx, event)
	if err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.Changed {
		t.Errorf("redelivery response %s; want unchanged", out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(callbacks) != 1 {
		t.Errorf("redelivery called back again: %d callbacks", len(callbacks))
	}
}

// TestDropInInboxLambdaBinary: the Lambda binary with only the original's
// environment variables (plus where the fakes listen), given the original's
// S3 event with URL-encoded keys (`+` for a space, %3A), against the Runtime
// API test server, VersityGW, the fake GitHub, moto's SES and a callback
// server: a valid Idox Eros set raises one issue and is promoted with its
// report.json; an incomplete file fails with one email; both are called back.
func TestDropInInboxLambdaBinary(t *testing.T) {
	watchURL, finalURL := s3test.Bucket(t), s3test.Bucket(t)
	gh := githubtest.New(t, githubtest.Options{})
	gh.AddRepo("DemocracyClub", "UK-Polling-Stations")
	ak, sk := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY") // the S3 server's
	moto := inboxtest.StartMoto(t)
	moto.VerifySES(t, "eu-west-2", inbox.LegacySender)
	t.Setenv("AWS_ACCESS_KEY_ID", ak) // moto takes any credentials; the S3 server only its own
	t.Setenv("AWS_SECRET_ACCESS_KEY", sk)
	cb := inboxtest.StartEndpoint(t)
	ctx := context.Background()
	watch, err := store.Open(ctx, watchURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	bucket, _, _ := store.BucketOf(watchURL)
	sets := map[string]string{ // key → test file
		"E07000223/2026-05-07/2026-04-01T10:00:00Z/idox eros.csv": "idox_eros.csv",
		"E07000111/2026-05-07/2026-04-01T11:00:00Z/stations.csv":  "incomplete.csv",
	}
	var records []string
	for key, f := range sets {
		b, err := os.ReadFile(filepath.Join("..", "inbox", "testdata", "files", f))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := watch.Put(ctx, key, bytes.NewReader(b), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		records = append(records, `{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"`+bucket+`"},"object":{"key":"`+url.QueryEscape(key)+`"}}}`)
	}
	api := newRuntimeAPI(t)
	startFunction(t, api, map[string]string{
		"TEMP_BUCKET_NAME": watchURL, "FINAL_BUCKET_NAME": finalURL, "GITHUB_REPO": "DemocracyClub/UK-Polling-Stations",
		"GITHUB_API_KEY": "ghp_dropin", "WDIV_WEBHOOK_URL": cb.URL + "/api/upload/", "WDIV_API_KEY": "wdiv-key",
		"ERROR_REPORT_EMAIL": "errors@example.org", "AWS_REGION": "eu-west-2",
		// where the fakes listen (the SDK's and GitHub's standard variables)
		"GITHUB_API_URL": gh.URL, "AWS_ENDPOINT_URL_SESV2": moto.URL,
		"AWS_ACCESS_KEY_ID": os.Getenv("AWS_ACCESS_KEY_ID"), "AWS_SECRET_ACCESS_KEY": os.Getenv("AWS_SECRET_ACCESS_KEY"),
		"HOME": t.TempDir(),
	})
	event := `{"Records":[` + strings.Join(records, ",") + `]}`
	r := api.invoke(event)
	if !r.OK || !strings.Contains(string(r.Body), `"changed":true`) {
		t.Fatalf("invocation: a set failing its checks is handled (email, callback), not an error; got %s", r.Body)
	}
	if issues := gh.Issues("DemocracyClub", "UK-Polling-Stations"); len(issues) != 1 || !strings.HasPrefix(issues[0].Title, "Import E07000223-") {
		t.Errorf("issues %+v; want one for E07000223", issues)
	}
	if msgs := moto.SESMessages(t); len(msgs) != 1 || !strings.Contains(msgs[0].Subject, "E07000111") {
		t.Errorf("SES messages %+v; want one about E07000111", msgs)
	}
	if n := posts(cb); n != 2 {
		t.Errorf("callbacks %d; want 2 (one per set)", n)
	}
	final, err := store.Open(ctx, finalURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer final.Close()
	if _, _, err := final.Read(ctx, "E07000223/2026-05-07/2026-04-01T10:00:00Z/idox eros.csv"); err != nil {
		t.Errorf("the valid file was not promoted under its decoded key: %v", err)
	}
	if _, _, err := final.Read(ctx, "E07000223/2026-05-07/2026-04-01T10:00:00Z/report.json"); err != nil {
		t.Errorf("no report.json for the passing set: %v", err)
	}
	if _, _, err := final.Read(ctx, "E07000111/2026-05-07/2026-04-01T11:00:00Z/stations.csv"); err == nil {
		t.Errorf("the failing file was promoted")
	}
	// Redelivered: nothing sent again.
	api.invoke(event)
	if n, m := posts(cb), len(moto.SESMessages(t)); n != 2 || m != 1 || len(gh.Issues("DemocracyClub", "UK-Polling-Stations")) != 1 {
		t.Errorf("after a redelivery: %d callbacks, %d emails; want 2 and 1, one issue", n, m)
	}
}

// posts counts the callbacks (the endpoint also answers enrichment GETs).
func posts(e *inboxtest.Endpoint) int {
	n := 0
	for _, r := range e.Requests() {
		if r.Method == http.MethodPost {
			n++
		}
	}
	return n
}
