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
