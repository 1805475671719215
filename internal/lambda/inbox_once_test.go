//go:build integration

package lambda

import (
	"bytes"
	"context"
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

// TestConcurrentLambdasActOncePerSet: eight Lambda processes (the built
// binary, the original's environment only: the processed-set record and its
// claims live in the final S3 bucket on VersityGW) receive at the same time
// the S3 events of the files of two two-file sets, two invocations per file,
// as S3 delivers one event per object and Lambda runs them concurrently.
// Each set is acted on once: one GitHub issue and no "Updated" comment for
// the passing set, one SES email for the failing one, one callback each.
// Every invocation succeeds; those that found a set claimed say so.
func TestConcurrentLambdasActOncePerSet(t *testing.T) {
	watchURL, finalURL := s3test.Bucket(t), s3test.Bucket(t)
	gh := githubtest.New(t, githubtest.Options{})
	gh.AddRepo("DemocracyClub", "UK-Polling-Stations")
	ak, sk := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY") // the S3 server's
	moto := inboxtest.StartMoto(t)
	moto.VerifySES(t, "eu-west-2", inbox.LegacySender)
	t.Setenv("AWS_ACCESS_KEY_ID", ak)
	t.Setenv("AWS_SECRET_ACCESS_KEY", sk)
	cb := inboxtest.StartEndpoint(t)
	ctx := context.Background()
	watch, err := store.Open(ctx, watchURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	bucket, _, _ := store.BucketOf(watchURL)
	const passing, failing = "E07000223/2026-05-07/2026-04-01T10:00:00Z/", "E07000111/2026-05-07/2026-04-01T11:00:00Z/"
	files := []struct{ key, file string }{
		{passing + "districts.csv", "dc_districts.csv"}, {passing + "stations.csv", "dc_stations.csv"},
		{failing + "a.csv", "incomplete.csv"}, {failing + "b.csv", "dc_stations.csv"},
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("..", "inbox", "testdata", "files", f.file))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := watch.Put(ctx, f.key, bytes.NewReader(b), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"TEMP_BUCKET_NAME": watchURL, "FINAL_BUCKET_NAME": finalURL, "GITHUB_REPO": "DemocracyClub/UK-Polling-Stations",
		"GITHUB_API_KEY": "ghp_dropin", "WDIV_WEBHOOK_URL": cb.URL + "/api/upload/", "WDIV_API_KEY": "wdiv-key",
		"ERROR_REPORT_EMAIL": "errors@example.org", "AWS_REGION": "eu-west-2",
		"GITHUB_API_URL": gh.URL, "AWS_ENDPOINT_URL_SESV2": moto.URL,
		"AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk, "HOME": t.TempDir(),
	}
	const processes = 8
	apis := make([]*runtimeAPI, processes)
	for i := range apis {
		apis[i] = newRuntimeAPI(t)
		startFunction(t, apis[i], env)
	}
	results := make([]result, processes)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, api := range apis {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := files[i%len(files)]
			event := `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"` + bucket +
				`"},"object":{"key":"` + url.QueryEscape(f.key) + `"}}}]}`
			<-start
			results[i] = api.invoke(event)
		}()
	}
	close(start)
	wg.Wait()
	busy, changed := 0, 0
	for i, r := range results {
		if !r.OK {
			t.Errorf("invocation %d failed: %s", i, r.Body)
		}
		if strings.Contains(string(r.Body), `"busy":true`) {
			busy++
		}
		if strings.Contains(string(r.Body), `"changed":true`) {
			changed++
		}
	}
	if changed != 2 {
		t.Errorf("%d invocations acted (changed); want 2, one per set", changed)
	}
	issues := gh.Issues("DemocracyClub", "UK-Polling-Stations")
	if len(issues) != 1 || len(issues[0].Comments) != 0 {
		t.Errorf("issues %+v; want one, with no Updated comment", issues)
	}
	if msgs := moto.SESMessages(t); len(msgs) != 1 {
		t.Errorf("%d emails; want 1 (the failing set)", len(msgs))
	}
	if n := posts(cb); n != 2 {
		t.Errorf("%d callbacks; want 2 (one per set)", n)
	}
	t.Logf("%d invocations: %d found a set being processed by another", processes, busy)
}
