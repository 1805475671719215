package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/githubtest"
)

const (
	hookSecret   = "torchci-hook-secret"
	circleSecret = "torchci-circle-secret"
	ghToken      = "ghp_torchci_token_never_sent_to_blob_storage"
)

func runCLIEnv(ctx context.Context, env map[string]string, args ...string) (int, string, string) {
	var out, errb syncBuffer
	code := Main(ctx, args, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
	return code, out.String(), errb.String()
}

// logBlobs serves job logs like GitHub's log storage and records any
// request that carries GitHub credentials.
type logBlobs struct {
	*httptest.Server
	mu    sync.Mutex
	logs  map[string][]byte
	leaks []string
}

func newLogBlobs(t *testing.T) *logBlobs {
	b := &logBlobs{logs: map[string][]byte{}}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		defer b.mu.Unlock()
		for k, vs := range r.Header {
			for _, v := range vs {
				if strings.EqualFold(k, "Authorization") || strings.Contains(v, ghToken) {
					b.leaks = append(b.leaks, k+": "+v)
				}
			}
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

func jobLog(id int64) []byte {
	ts := "2024-05-01T10:00:00.0000000Z "
	return []byte(ts + "+ make setup\n" + ts + "+ make test\n" + fmt.Sprintf("%sFATAL torchci-%d: out of cheese\n", ts, id) + ts + "done\n")
}

func jobDelivery(repo string, id int64, status, conclusion, started string) []byte {
	completed, concl := "null", "null"
	if status == "completed" {
		completed, concl = `"2024-05-01T10:05:00Z"`, `"`+conclusion+`"`
	}
	return []byte(fmt.Sprintf(`{"action":%q,"workflow_job":{"id":%d,"run_id":1,"status":%q,"conclusion":%s,"name":"build","head_sha":"abc",`+
		`"created_at":%q,"started_at":%q,"completed_at":%s},"repository":{"full_name":%q},"installation":{"id":42}}`,
		status, id, status, concl, started, started, completed, repo))
}

func postHook(t *testing.T, base, event, guid string, body []byte) int {
	t.Helper()
	m := hmac.New(sha256.New, []byte(hookSecret))
	m.Write(body)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/github/webhooks", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", guid)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("post %s: %v", guid, err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func postCircle(t *testing.T, base string, body []byte, key string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/circleci/webhooks", bytes.NewReader(body))
	if key != "" {
		m := hmac.New(sha256.New, []byte(key))
		m.Write(body)
		req.Header.Set("circleci-signature", "v1="+hex.EncodeToString(m.Sum(nil)))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// startServe runs `ghsync serve` in-process until the test ends (or stop is
// called) and waits until it is ready.
func startServe(t *testing.T, env map[string]string, cfg string) (base string, stop func() (int, string)) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var code int
	var errs string
	go func() {
		code, _, errs = runCLIEnv(ctx, env, "serve", "--config", cfg, "--addr", addr)
		close(done)
	}()
	base = "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case <-done:
			t.Fatalf("serve exited %d:\n%s", code, errs)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("serve not ready: %v\n%s", err, errs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var once sync.Once
	stop = func() (int, string) {
		once.Do(func() { cancel(); <-done })
		return code, errs
	}
	t.Cleanup(func() { stop() })
	return base, stop
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		json.NewDecoder(resp.Body).Decode(v)
	}
	return resp.StatusCode
}

type eventsPage struct {
	Rows []struct {
		Key            string          `json:"key"`
		Status         string          `json:"status"`
		Classification json.RawMessage `json:"classification"`
	} `json:"rows"`
}

// TestServeDownloadsAndClassifiesJobLogs: `ghsync serve` with webhooks.logs
// downloads the logs of completed jobs (failures only for acme/*, all for
// acme/special) through the fake GitHub's redirect, stores them gzipped at
// DEST/log/OWNER/REPO/JOB_ID, classifies them with the configured rules and
// context, and the classification is queryable by the read API and by
// `ghsync events list --classification`. CircleCI is mounted on the same
// server and archived at shutdown.
func TestServeDownloadsAndClassifiesJobLogs(t *testing.T) {
	gh := githubtest.New(t, githubtest.Options{})
	gh.Token = ghToken
	gh.AddRepo("acme", "app")
	gh.AddRepo("acme", "special")
	blobs := newLogBlobs(t)
	dir := t.TempDir()
	rules := writeFile(t, filepath.Join(dir, "ruleset.toml"), []byte("[[rule]]\nname = \"cheese\"\npattern = 'FATAL (torchci-\\d+)'\n"))
	dbURL := "sqlite://" + dir + "/data/ghsync.db"
	cfg := writeFile(t, filepath.Join(dir, "ghsync.yaml"), []byte(`database: `+dbURL+`
storage: file://`+dir+`/store/
github:
  token: ${GH_TOKEN}
  api_url: `+gh.URL+`
webhooks:
  secrets: ["${HOOK_SECRET}"]
  archive:
    dest: raw/
    batch_age: 1h
  logs:
    download: failures
    repos:
      - {pattern: acme/special, mode: all}
    dest: ci/
    rules: `+rules+`
    context: 1
    concurrency: 2
  circleci:
    secrets: ["${CIRCLE_SECRET}"]
`))
	env := map[string]string{"GH_TOKEN": ghToken, "HOOK_SECRET": hookSecret, "CIRCLE_SECRET": circleSecret}
	base, stop := startServe(t, env, cfg)

	// 6 failed jobs of acme/app, 2 successful ones (not wanted under
	// "failures"), 2 successful ones of acme/special ("all").
	type job struct {
		repo       string
		id         int64
		conclusion string
		want       bool
	}
	var jobs []job
	for i := int64(1); i <= 6; i++ {
		jobs = append(jobs, job{"acme/app", i, "failure", true})
	}
	jobs = append(jobs, job{"acme/app", 7, "success", false}, job{"acme/app", 8, "success", false},
		job{"acme/special", 9, "success", true}, job{"acme/special", 10, "success", true})
	for _, j := range jobs {
		owner, repo, _ := strings.Cut(j.repo, "/")
		path := fmt.Sprintf("/logs/%s/%d", repo, j.id)
		blobs.mu.Lock()
		blobs.logs[path] = jobLog(j.id)
		blobs.mu.Unlock()
		gh.SetJobLogURL(owner, repo, j.id, blobs.URL+path+"?sig=signed")
		if code := postHook(t, base, "workflow_job", fmt.Sprintf("job-%d", j.id), jobDelivery(j.repo, j.id, "completed", j.conclusion, "2024-05-01T10:00:00Z")); code != 202 {
			t.Fatalf("post job %d: %d", j.id, code)
		}
	}
	var page eventsPage
	for deadline := time.Now().Add(60 * time.Second); ; {
		page = eventsPage{}
		getJSON(t, base+"/api/events/workflow_job?classification=cheese&limit=100", &page)
		if len(page.Rows) == 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("classified rows after 60s: %d, want 8", len(page.Rows))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, r := range page.Rows {
		var m struct {
			Rule     string   `json:"rule"`
			Line     string   `json:"line"`
			LineNum  int      `json:"line_num"`
			Captures []string `json:"captures"`
			Context  []string `json:"context"`
		}
		if err := json.Unmarshal(r.Classification, &m); err != nil || m.LineNum != 3 || !strings.HasPrefix(m.Line, "FATAL torchci-") ||
			len(m.Captures) != 1 || len(m.Context) != 1 || m.Context[0] != "+ make test" {
			t.Errorf("%s: classification %s", r.Key, r.Classification)
		}
	}
	if code := getJSON(t, base+"/api/events/issues?classification=cheese", nil); code != 400 {
		t.Errorf("classification on issues: %d, want 400", code)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `ghsync_webhook_log_downloads_total{result="stored"} 8`) {
		t.Errorf("/metrics:\n%s", grepLines(string(metrics), "log_downloads"))
	}

	// CircleCI: signed with the configured secret → stored; wrong or no
	// signature → 401.
	ev := []byte(`{"id":"c1","type":"job-completed","happened_at":"2024-05-01T10:00:00Z","project":{"slug":"gh/acme/app"},` +
		`"workflow":{"id":"w1","name":"ci"},"job":{"id":"j1","name":"test","status":"failed"}}`)
	if code := postCircle(t, base, ev, circleSecret); code/100 != 2 {
		t.Errorf("signed CircleCI webhook: %d", code)
	}
	if code := postCircle(t, base, ev, "wrong"); code != 401 {
		t.Errorf("wrong CircleCI secret: %d", code)
	}
	if code := postCircle(t, base, ev, ""); code != 401 {
		t.Errorf("unsigned CircleCI webhook: %d", code)
	}
	if code, errs := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, errs)
	}

	for _, j := range jobs {
		key := filepath.Join(dir, "store", "ci", "log", j.repo, fmt.Sprint(j.id))
		data, err := os.ReadFile(key)
		if !j.want {
			if err == nil {
				t.Errorf("job %d (%s) downloaded against the policy", j.id, j.conclusion)
			}
			continue
		}
		if err != nil {
			t.Errorf("job %d: %v", j.id, err)
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Errorf("job %d: not gzip: %v", j.id, err)
			continue
		}
		if got, _ := io.ReadAll(zr); !bytes.Equal(got, jobLog(j.id)) {
			t.Errorf("job %d: stored log differs", j.id)
		}
		if _, err := os.Stat(key + ".classification.json"); err != nil {
			t.Errorf("job %d: classification object: %v", j.id, err)
		}
	}
	// The CircleCI delivery was archived by the shutdown's final flush.
	var archived []string
	filepath.Walk(filepath.Join(dir, "store", "raw", "circleci"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.HasSuffix(p, ".ndjson.gz") {
			archived = append(archived, p)
		}
		return nil
	})
	if len(archived) != 1 {
		t.Errorf("circleci archive objects: %v", archived)
	}

	code, out, errs := runCLIEnv(context.Background(), env, "events", "list", "workflow_job", "--classification", "cheese", "--limit", "100", "--json", "--config", cfg)
	if code != 0 || strings.Count(out, `"rule": "cheese"`) != 8 {
		t.Errorf("events list --classification cheese: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = runCLIEnv(context.Background(), env, "events", "list", "workflow_job", "--classification", "other", "--json", "--config", cfg)
	if code != 0 || strings.Contains(out, `"key"`) {
		t.Errorf("events list --classification other: exit %d\n%s", code, out)
	}
}

// TestServeRejectsBadRulesFile: a rules file that does not parse stops
// serve with exit 2 and the key's position in the config.
func TestServeRejectsBadRulesFile(t *testing.T) {
	dir := t.TempDir()
	rules := writeFile(t, filepath.Join(dir, "ruleset.toml"), []byte("[[rule]]\nname = \"x\"\npattern = \"(\"\n"))
	cfg := writeFile(t, filepath.Join(dir, "ghsync.yaml"), []byte("database: sqlite://"+dir+"/db\nwebhooks:\n  logs:\n    download: all\n    dest: file://"+dir+"/ci/\n    rules: "+rules+"\n"))
	code, _, errs := runCLI(context.Background(), "serve", "--config", cfg, "--addr", freeAddr(t))
	if code != ExitUsage || !strings.Contains(errs, "ghsync.yaml:6:5: webhooks.logs.rules: ") || !strings.Contains(errs, "ruleset.toml") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}
