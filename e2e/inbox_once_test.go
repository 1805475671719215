//go:build integration

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/inbox/inboxtest"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/scheduler"
	"github.com/ghsync/ghsync/internal/store"
	"github.com/ghsync/ghsync/internal/testkit"
)

// TestServeReplicasActOncePerSet: three `ghsync serve` replicas (the built
// binary) on one PostgreSQL database poll one S3 watch area (VersityGW)
// every second — alone, and while `ghsync run` polls it from three more
// processes (a cron job next to the fleet): two two-file sets, one passing
// and one failing, are each acted on once — one GitHub issue without an
// "Updated" comment, one email (SMTP with STARTTLS), one callback per set —
// with the processed-set record (and its claims) in PostgreSQL.
func TestServeReplicasActOncePerSet(t *testing.T) {
	t.Run("replicas", func(t *testing.T) { serveReplicasOnce(t, 0) })
	t.Run("replicas and runs by hand", func(t *testing.T) { serveReplicasOnce(t, 3) })
}

func serveReplicasOnce(t *testing.T, byHand int) {
	pgURL := dbtest.PostgresURL(t)
	watchURL, finalURL := s3test.Bucket(t), s3test.Bucket(t)
	bin := testkit.Ghsync(t)
	gh := githubtest.New(t, githubtest.Options{})
	gh.AddRepo("DemocracyClub", "UK-Polling-Stations")
	smtp := inboxtest.StartSMTP(t, "mailer", "mailpass")
	cb := inboxtest.StartEndpoint(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "smtp-ca.pem")
	if err := os.WriteFile(caFile, smtp.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "ghsync.yaml")
	if err := os.WriteFile(cfg, []byte(`database: "`+pgURL+`"
webhooks:
  insecure_no_signature: true
jobs:
  - name: uploads
    kind: inbox
    watch: "`+watchURL+`"
    final: "`+finalURL+`"
    format: wdiv
    poll: 1s
    github:
      repo: DemocracyClub/UK-Polling-Stations
      token: ghp_inbox
    email:
      to: [errors@example.org]
      from: pollingstations@example.org
      via: "smtp://mailer:mailpass@`+smtp.Addr+`"
    callback:
      url: "`+cb.URL+`/api/upload/"
      token: cb-token
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	watch, err := store.Open(ctx, watchURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	const passing, failing = "E07000223/2026-05-07/2026-04-01T10:00:00Z/", "E07000111/2026-05-07/2026-04-01T11:00:00Z/"
	for key, f := range map[string]string{passing + "districts.csv": "dc_districts.csv", passing + "stations.csv": "dc_stations.csv",
		failing + "a.csv": "incomplete.csv", failing + "b.csv": "dc_stations.csv"} {
		b, err := os.ReadFile(filepath.Join("..", "internal", "inbox", "testdata", "files", f))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := watch.Put(ctx, key, bytes.NewReader(b), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "GITHUB_API_URL=" + gh.URL, "SSL_CERT_FILE=" + caFile,
		"AWS_ACCESS_KEY_ID=" + os.Getenv("AWS_ACCESS_KEY_ID"), "AWS_SECRET_ACCESS_KEY=" + os.Getenv("AWS_SECRET_ACCESS_KEY"),
		"AWS_REGION=" + os.Getenv("AWS_REGION")}
	type proc struct {
		name string
		cmd  *exec.Cmd
		out  *testkit.SyncBuffer
		done chan error
	}
	var procs []*proc
	start := func(name string, args ...string) *proc {
		p := &proc{name: name, cmd: exec.Command(bin, args...), out: &testkit.SyncBuffer{}, done: make(chan error, 1)}
		p.cmd.Env, p.cmd.Dir = env, dir
		p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.done <- p.cmd.Wait() }()
		procs = append(procs, p)
		return p
	}
	t.Cleanup(func() {
		for _, p := range procs {
			_ = p.cmd.Process.Kill()
		}
		if t.Failed() {
			for _, p := range procs {
				t.Logf("---- %s output (last 3 KB):\n%s", p.name, lastBytes(p.out.String(), 3072))
			}
		}
	})
	var replicas []*proc
	for i := 1; i <= 3; i++ {
		replicas = append(replicas, start(fmt.Sprintf("serve r%d", i), "serve", "--config", cfg, "--database", pgURL,
			"--addr", freeAddr(t), "--replica-id", fmt.Sprintf("r%d", i)))
	}
	var runs []*proc
	for i := 1; i <= byHand; i++ {
		runs = append(runs, start(fmt.Sprintf("run %d", i), "run", "uploads", "--config", cfg))
	}
	for _, p := range runs {
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("%s: %v\n%s", p.name, err, p.out.String())
			}
		case <-time.After(2 * time.Minute):
			t.Fatalf("%s did not finish", p.name)
		}
	}
	// Let the fleet poll a few more times, then stop it.
	waitPolls(t, pgURL, "uploads", 4)
	for _, p := range replicas {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range replicas {
		select {
		case <-p.done:
		case <-time.After(40 * time.Second):
			t.Errorf("%s did not stop", p.name)
		}
	}
	issues := gh.Issues("DemocracyClub", "UK-Polling-Stations")
	if len(issues) != 1 || len(issues[0].Comments) != 0 {
		t.Errorf("issues %+v; want one, with no Updated comment", issues)
	}
	if n := len(smtp.Mails()); n != 1 {
		t.Errorf("%d emails; want 1 (the failing set)", n)
	}
	posts := 0
	for _, r := range cb.Requests() {
		if r.Method == http.MethodPost {
			posts++
		}
	}
	if posts != 2 {
		t.Errorf("%d callbacks; want 2 (one per set)", posts)
	}
	busy := 0
	for _, p := range runs {
		busy += strings.Count(p.out.String(), "being processed by another run")
	}
	t.Logf("3 replicas and %d run(s) by hand: the runs by hand found %d set(s) being processed by another run", byHand, busy)
}

// waitUp waits for url to answer 200.
func waitUp(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not up after 30s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitPolls waits until the fleet's run history holds n finished runs of job.
func waitPolls(t *testing.T, dbURL, job string, n int) {
	t.Helper()
	d, err := db.Open(context.Background(), dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		runs, err := scheduler.Runs(context.Background(), d, scheduler.RunQuery{Job: job, Limit: 100})
		finished := 0
		for _, r := range runs {
			if !r.FinishedAt.IsZero() {
				finished++
			}
		}
		if err == nil && finished >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d finished polls of %s after 60s (want %d): %v", finished, job, n, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
