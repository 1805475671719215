package webhooks_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
	"github.com/ghsync/ghsync/internal/storetest"
	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/classify"
	"github.com/ghsync/ghsync/internal/webhooks/logs"
)

const ghToken = "ghp_test_token_never_sent_to_blob_storage"

// blobServer serves job logs like GitHub's log storage does, and fails the
// test if any request carries credentials.
type blobServer struct {
	*httptest.Server
	mu    sync.Mutex
	logs  map[string][]byte
	gets  int
	leaks []string
}

func newBlobServer(t *testing.T) *blobServer {
	b := &blobServer{logs: map[string][]byte{}}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.gets++
		for k, vs := range r.Header {
			for _, v := range vs {
				if strings.EqualFold(k, "Authorization") || strings.Contains(v, ghToken) {
					b.leaks = append(b.leaks, k+": "+v)
				}
			}
		}
		if strings.Contains(r.URL.RawQuery, ghToken) {
			b.leaks = append(b.leaks, "query: "+r.URL.RawQuery)
		}
		body, ok := b.logs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(func() {
		b.Close()
		for _, l := range b.leaks {
			t.Errorf("blob storage received GitHub credentials: %s", l)
		}
	})
	return b
}

// logFixture is a real-looking failed job log for job id.
func logFixture(id int64, lines int) []byte {
	var b bytes.Buffer
	ts := "2024-05-01T10:00:00.0000000Z "
	b.WriteString(ts + "##[group]Run pytest\n" + ts + "+ python -m pytest test/\n")
	for i := 0; i < lines; i++ {
		fmt.Fprintf(&b, "%stest/test_mod.py::test_case_%d \x1b[32mPASSED\x1b[0m\n", ts, i)
	}
	fmt.Fprintf(&b, "%sFAILED test/test_mod.py::test_job_%d - AssertionError: boom\n", ts, id)
	b.WriteString(ts + "##[error]Process completed with exit code 1.\n")
	return b.Bytes()
}

func openStore(t *testing.T, kind string) *store.Bucket {
	t.Helper()
	var u string
	switch kind {
	case "mem":
		u = "mem://logs-" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()) + "/ci/"
	case "file":
		u = "file://" + filepath.ToSlash(t.TempDir()) + "/ci/"
	case "s3":
		u = strings.Replace(s3test.Bucket(t), "/?", "/ci/?", 1)
	default: // gs, azblob: the conformance suite's servers
		for _, be := range storetest.Backends() {
			if be.Name == kind {
				u = be.URL(t, "ci/")
			}
		}
	}
	b, err := store.Open(context.Background(), u, store.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

type logsRig struct {
	*bundle
	gh   *githubtest.Server
	blob *blobServer
	bkt  *store.Bucket
	dl   *logs.Downloader
}

func newLogsRig(t *testing.T, d *db.DB, storeKind string, mod func(*logs.Options), cfgMods ...func(*webhooks.Config)) *logsRig {
	gh := githubtest.New(t, githubtest.Options{})
	gh.Token = ghToken
	gh.AddRepo("acme", "app")
	client, err := github.New(github.Config{BaseURL: gh.URL, Token: ghToken})
	if err != nil {
		t.Fatal(err)
	}
	r := &logsRig{gh: gh, blob: newBlobServer(t), bkt: openStore(t, storeKind)}
	b := setup(t, d, func(c *webhooks.Config) {
		o := logs.Options{DB: d, GitHub: client, Bucket: r.bkt, Policy: logs.Policy{Default: logs.All},
			RetryBase: time.Millisecond, Registerer: c.Registerer}
		if mod != nil {
			mod(&o)
		}
		dl, err := logs.New(o)
		if err != nil {
			t.Fatal(err)
		}
		r.dl = dl
		c.Logs = dl
		for _, m := range cfgMods {
			m(c)
		}
	})
	r.bundle = b
	return r
}

// addJob makes job id's log available and sends its completed delivery.
func (r *logsRig) addJob(t *testing.T, id int64, log []byte) {
	path := fmt.Sprintf("/logs/%d", id)
	r.blob.mu.Lock()
	r.blob.logs[path] = log
	r.blob.mu.Unlock()
	r.gh.SetJobLogURL("acme", "app", id, r.blob.URL+path+"?sig=signed-url")
	if code := r.post(t, "workflow_job", fmt.Sprintf("job-%d-done", id),
		jobPayload("acme/app", id, "completed", "2024-05-01T10:00:00Z", "2024-05-01T10:05:00Z")); code != 202 {
		t.Fatalf("post job %d: %d", id, code)
	}
}

func (r *logsRig) checkStored(t *testing.T, id int64, want []byte) {
	t.Helper()
	ctx := context.Background()
	data, _, err := r.bkt.Read(ctx, logs.LogKey("acme/app", id))
	if err != nil {
		t.Fatalf("job %d: read log: %v", id, err)
	}
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		t.Fatalf("job %d: stored log is not gzip", id)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("job %d: stored log differs (%d bytes, want %d): %v", id, len(got), len(want), err)
	}
	obj, err := r.bkt.Stat(ctx, logs.LogKey("acme/app", id))
	if err != nil || obj.Metadata["conclusion"] != "success" {
		t.Fatalf("job %d: metadata %v, %v", id, obj.Metadata, err)
	}
	cj, _, err := r.bkt.Read(ctx, logs.ClassificationKey("acme/app", id))
	var m classify.Match
	if err != nil || json.Unmarshal(cj, &m) != nil || m.Rule != "pytest failure" {
		t.Fatalf("job %d: classification object %s, %v", id, cj, err)
	}
}

func TestJobLogsDownloadedStoredClassified(t *testing.T) {
	for _, kind := range []string{"mem", "file", "s3"} {
		t.Run(kind, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				if kind != "mem" && d.Dialect() == db.Postgres {
					t.Skip("store kinds are covered on SQLite; PostgreSQL runs with mem://")
				}
				r := newLogsRig(t, d, kind, nil)
				ctx := context.Background()
				for id := int64(1); id <= 19; id++ {
					r.addJob(t, id, logFixture(id, 50))
				}
				r.process(t)
				sum, err := r.dl.RunOnce(ctx)
				if err != nil || sum.Stored != 19 {
					t.Fatalf("RunOnce = %+v, %v; want 19 stored", sum, err)
				}
				// The 20th job's log is not ready twice (404), then is.
				r.gh.ResetCounts()
				route := "GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs"
				r.gh.Fail(route, http.StatusNotFound, 2)
				r.addJob(t, 20, logFixture(20, 50))
				r.process(t)
				for try := 1; try <= 3; try++ {
					time.Sleep(20 * time.Millisecond) // past the retry backoff
					sum, err := r.dl.RunOnce(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if want := map[bool]int{true: 1, false: 0}[try == 3]; sum.Stored != want {
						t.Fatalf("try %d: %+v", try, sum)
					}
				}
				if n := r.gh.Count(route); n != 3 {
					t.Errorf("log requests for job 20 = %d, want 3", n)
				}
				for id := int64(1); id <= 20; id++ {
					r.checkStored(t, id, logFixture(id, 50))
				}
				if n := r.count(t, "SELECT COUNT(*) FROM workflow_job WHERE classification_rule = 'pytest failure'"); n != 20 {
					t.Errorf("classified rows = %d, want 20", n)
				}
				if n := r.count(t, "SELECT attempts FROM log_downloads WHERE job_id = 20"); n != 3 {
					t.Errorf("job 20 attempts = %d, want 3", n)
				}
				page, err := webhooks.QueryEvents(ctx, d, "workflow_job", webhooks.EventQuery{Classification: "pytest failure", Limit: 5})
				if err != nil || len(page.Rows) != 5 {
					t.Fatalf("query by classification: %v %v", page, err)
				}
				var m classify.Match
				if err := json.Unmarshal(page.Rows[0].Classification, &m); err != nil || !strings.HasPrefix(m.Line, "FAILED test/test_mod.py::test_job_") ||
					len(m.Context) != 1 || m.Context[0] != "+ python -m pytest test/" || m.LineNum != 53 {
					t.Errorf("row classification %s: %+v %v", page.Rows[0].Classification, m, err)
				}
				r.blob.mu.Lock()
				gets := r.blob.gets
				r.blob.mu.Unlock()
				if gets != 20 {
					t.Errorf("blob GETs = %d, want 20", gets)
				}
				if v := r.metric(t, "ghsync_webhook_log_downloads_total", map[string]string{"result": "stored"}); v != 20 {
					t.Errorf("stored metric = %v", v)
				}
			})
		})
	}
}

func TestJobLogOverCapClassifiedOnTail(t *testing.T) {
	d := dbtest.SQLite(t)
	r := newLogsRig(t, d, "mem", func(o *logs.Options) { o.MaxClassifyBytes = 4096 })
	var b bytes.Buffer
	b.WriteString("FAILED early/test.py::test_a - in the head, outside the tail\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "line %d of noise\n", i)
	}
	b.WriteString("src/x.cpp:3:1: error: late, in the tail\n")
	log := b.Bytes()
	r.addJob(t, 99, log)
	r.process(t)
	if sum, err := r.dl.RunOnce(context.Background()); err != nil || sum.Stored != 1 {
		t.Fatalf("RunOnce = %+v, %v", sum, err)
	}
	data, _, err := r.bkt.Read(context.Background(), logs.LogKey("acme/app", 99))
	if err != nil {
		t.Fatal(err)
	}
	zr, _ := gzip.NewReader(bytes.NewReader(data))
	whole, _ := io.ReadAll(zr)
	if !bytes.Equal(whole, log) {
		t.Fatalf("stored %d bytes, want the whole %d", len(whole), len(log))
	}
	var m classify.Match
	cj, _, _ := r.bkt.Read(context.Background(), logs.ClassificationKey("acme/app", 99))
	if err := json.Unmarshal(cj, &m); err != nil || m.Rule != "C/C++ compile error" || m.LineNum != 5002 {
		t.Fatalf("classification %s", cj)
	}
	if n := r.count(t, "SELECT classified_bytes FROM log_downloads WHERE job_id = 99"); n > 4096 || n < 4000 {
		t.Errorf("classified bytes = %d, want the tail (≤ 4096)", n)
	}
}

func TestJobLogPolicyAndGone(t *testing.T) {
	d := dbtest.SQLite(t)
	r := newLogsRig(t, d, "mem", func(o *logs.Options) {
		o.Policy = logs.Policy{Default: logs.Failures, Repos: []logs.RepoMode{{Pattern: "other/*", Mode: logs.All}}}
	})
	r.addJob(t, 5, logFixture(5, 1)) // conclusion success: not wanted under "failures"
	r.process(t)
	if n := r.count(t, "SELECT COUNT(*) FROM log_downloads"); n != 0 {
		t.Fatalf("success job queued under failures policy: %d rows", n)
	}
	// A failed job whose log has expired (410) fails at once, visibly.
	fail := bytes.Replace(jobPayload("acme/app", 6, "completed", "2024-05-01T10:00:00Z", "2024-05-01T10:05:00Z"),
		[]byte(`"conclusion":"success"`), []byte(`"conclusion":"failure"`), 1)
	if code := r.post(t, "workflow_job", "job-6", fail); code != 202 {
		t.Fatal(code)
	}
	r.process(t)
	r.gh.Fail("GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs", http.StatusGone, 1)
	sum, err := r.dl.RunOnce(context.Background())
	if err == nil || sum.Failed != 1 {
		t.Fatalf("RunOnce = %+v, %v; want 1 failed and an error", sum, err)
	}
	r.gh.TakeViolations() // 410 is not in GitHub's description of this route
	var state, lastErr string
	if err := d.QueryRow(context.Background(), "SELECT state, last_error FROM log_downloads WHERE job_id = 6").Scan(&state, &lastErr); err != nil ||
		state != "gone" || !strings.Contains(lastErr, "410") {
		t.Fatalf("state %q last_error %q %v", state, lastErr, err)
	}
}

// TestJobLogsInBackground runs the downloader as serve does (Start/Close):
// deliveries are answered while logs download, and every log arrives.
func TestJobLogsInBackground(t *testing.T) {
	d := dbtest.SQLite(t)
	r := newLogsRig(t, d, "mem", nil)
	r.svc.Start()
	for id := int64(100); id < 110; id++ {
		r.addJob(t, id, logFixture(id, 10))
	}
	deadline := time.Now().Add(20 * time.Second)
	for r.count(t, "SELECT COUNT(*) FROM log_downloads WHERE state = 'done'") < 10 {
		if time.Now().After(deadline) {
			t.Fatal("logs not downloaded in the background")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := r.svc.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestJobLogDownloadInterruptedByShutdown: a download in flight when the
// server stops goes back to the queue (no attempt counted) and completes on
// the next start.
func TestJobLogDownloadInterruptedByShutdown(t *testing.T) {
	d := dbtest.SQLite(t)
	r := newLogsRig(t, d, "mem", nil)
	started := make(chan struct{}, 1)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-req.Context().Done()
	}))
	defer hang.Close()
	if code := r.post(t, "workflow_job", "job-77", jobPayload("acme/app", 77, "completed", "2024-05-01T10:00:00Z", "2024-05-01T10:05:00Z")); code != 202 {
		t.Fatal(code)
	}
	r.gh.SetJobLogURL("acme", "app", 77, hang.URL+"/logs/77")
	r.svc.Start()
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("download never started")
	}
	if err := r.svc.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var state string
	var attempts int
	if err := d.QueryRow(context.Background(), "SELECT state, attempts FROM log_downloads WHERE job_id = 77").Scan(&state, &attempts); err != nil {
		t.Fatal(err)
	}
	if state != "pending" || attempts != 0 {
		t.Fatalf("after shutdown: state %q attempts %d, want pending 0", state, attempts)
	}
	// Next run: the log is there now.
	r.blob.mu.Lock()
	r.blob.logs["/logs/77"] = logFixture(77, 3)
	r.blob.mu.Unlock()
	r.gh.SetJobLogURL("acme", "app", 77, r.blob.URL+"/logs/77")
	if sum, err := r.dl.RunOnce(context.Background()); err != nil || sum.Stored != 1 {
		t.Fatalf("after restart: %+v %v", sum, err)
	}
}
