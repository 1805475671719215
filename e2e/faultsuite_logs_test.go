//go:build integration

package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/faultproxy"
	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/logs"
)

// TestFaultSuiteLogDownloads: CI job logs downloaded through the fake
// GitHub's logs redirect and a blob host, both behind fault proxies, into
// file:// and S3 (S3 requests faulted too). No verb runs the downloader
// once, so the suite drives logs.Downloader.RunOnce, the code serve and the
// Lambda run. After every round every stored log object is valid gzip whose
// content equals the upstream log (never truncated); one clean round
// converges: every log stored exactly.
func TestFaultSuiteLogDownloads(t *testing.T) {
	rep := newReport(t, "log downloads")
	for _, dest := range []string{"file", "s3"} {
		t.Run(dest, func(t *testing.T) {
			t.Parallel() // each case has its own fakes, database and bucket
			logsSuiteCase(t, rep, dest)
		})
	}
}

func logsSuiteCase(t *testing.T, rep *suiteReport, dest string) {
	ctx := context.Background()
	seed := suiteSeed(t)
	rounds := suiteRuns(t, 8)
	rng := rand.New(rand.NewPCG(seed, 11))
	gh := githubtest.New(t, githubtest.Options{})
	gh.Token = "ghp_faultsuite"
	gh.AddRepo("acme", "app")

	var mu sync.Mutex
	upstream := map[int64][]byte{}
	blob := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id int64
		fmt.Sscanf(r.URL.Path, "/logs/%d", &id)
		mu.Lock()
		body, ok := upstream[id]
		mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	}))
	t.Cleanup(blob.Close)

	rates := allFaults(.2)
	ghp := startProxy(t, strings.TrimSuffix(gh.URL, "/"), faultproxy.Config{Seed: seed, Rates: rates, RetryAfter: "1"})
	blobp := startProxy(t, blob.URL, faultproxy.Config{Seed: seed ^ 0xb10b, Rates: rates, RetryAfter: "1"})
	proxies := []counter{ghp, blobp}
	var bucketURL, directURL string
	switch dest {
	case "file":
		directURL = "file://" + filepath.ToSlash(t.TempDir()) + "/ci/"
		bucketURL = directURL
	case "s3":
		directURL = strings.Replace(s3test.Bucket(t), "/?", "/ci/?", 1)
		s3p := startProxy(t, s3test.Endpoint(t), faultproxy.Config{Seed: seed ^ 0x5eed, Rates: rates, RetryAfter: "1",
			ErrorBody: s3ErrorBody, ErrorType: "application/xml"})
		bucketURL = s3Via(t, directURL, s3p.URL)
		proxies = append(proxies, s3p)
	}
	setFaults := func(on bool) {
		for _, p := range proxies {
			p.(*faultproxy.Proxy).SetEnabled(on)
		}
	}
	bkt, err := store.Open(ctx, bucketURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bkt.Close()
	direct, err := store.Open(ctx, directURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	d, err := db.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "hooks.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := webhooks.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	client, err := github.New(github.Config{BaseURL: ghp.URL + "/", Token: gh.Token})
	if err != nil {
		t.Fatal(err)
	}
	dl, err := logs.New(logs.Options{DB: d, GitHub: client, Bucket: bkt, Policy: logs.Policy{Default: logs.All},
		RetryBase: time.Millisecond, MaxAttempts: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var next int64 = 100
	addJobs := func(n int) {
		tx, err := d.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			next++
			id := next
			mu.Lock()
			upstream[id] = logFixture(id, rng.IntN(3000))
			mu.Unlock()
			gh.SetJobLogURL("acme", "app", id, blobp.URL+fmt.Sprintf("/logs/%d?sig=x", id))
			if _, err := dl.EnqueueTx(ctx, tx, logs.Job{Repo: "acme/app", ID: id, Conclusion: "failure", DeliveryID: fmt.Sprintf("d-%d", id)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// check returns every stored log that is not exactly its upstream log.
	check := func() (fails []string, stored int) {
		mu.Lock()
		defer mu.Unlock()
		for id, want := range upstream {
			data, _, err := direct.Read(ctx, logs.LogKey("acme/app", id))
			if errors.Is(err, store.ErrNotExist) {
				continue
			}
			if err != nil {
				fails = append(fails, fmt.Sprintf("job %d: read: %v", id, err))
				continue
			}
			stored++
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				fails = append(fails, fmt.Sprintf("job %d: stored log (%d bytes) is not gzip: %v", id, len(data), err))
				continue
			}
			got, err := io.ReadAll(zr)
			if err != nil {
				fails = append(fails, fmt.Sprintf("job %d: stored log is truncated gzip (%d bytes decoded of %d): %v", id, len(got), len(want), err))
			} else if !bytes.Equal(got, want) {
				fails = append(fails, fmt.Sprintf("job %d: stored log holds %d bytes, upstream %d", id, len(got), len(want)))
			}
		}
		return fails, stored
	}
	runOnce := func(faulty bool) {
		rctx, cancel := context.WithTimeout(ctx, runTimeout)
		defer cancel()
		_, err := dl.RunOnce(rctx)
		if rctx.Err() != nil {
			t.Fatalf("RunOnce hung: stopped after %s", runTimeout)
		}
		rep.mu.Lock()
		if faulty {
			rep.runs++
		} else {
			rep.clean++
		}
		if err == nil {
			rep.exit0++
		} else {
			rep.exit1++
		}
		rep.mu.Unlock()
	}
	for i := 0; i < rounds; i++ {
		addJobs(3)
		runOnce(true)
		if fails, _ := check(); len(fails) > 0 {
			for _, f := range fails {
				rep.fail(t, "%s round %d (seed %d): %s", dest, i, seed, f)
			}
			logFaults(t, seed, proxies...)
		}
	}
	setFaults(false)
	rep.addFaults(proxies...)
	// Clean rounds until nothing is due (retries wait out their backoff).
	for i := 0; i < 50; i++ {
		runOnce(false)
		var pending int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM log_downloads WHERE state <> 'done'`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond) // the backoff of the last retries
	}
	fails, stored := check()
	for _, f := range fails {
		rep.fail(t, "%s after the clean rounds: %s", dest, f)
	}
	if stored != len(upstream) {
		var states []string
		rows, _ := d.Query(ctx, `SELECT job_key, state, COALESCE(last_error, '') FROM log_downloads WHERE state <> 'done'`)
		for rows != nil && rows.Next() {
			var k, s, e string
			rows.Scan(&k, &s, &e)
			states = append(states, k+" "+s+": "+e)
		}
		rep.fail(t, "%s: after the clean rounds %d of %d logs are stored; not done: %v", dest, stored, len(upstream), states)
	}
}

// logFixture is a job log of about lines lines ending in a failure.
func logFixture(id int64, lines int) []byte {
	var b bytes.Buffer
	ts := "2024-05-01T10:00:00.0000000Z "
	b.WriteString(ts + "##[group]Run pytest\n")
	for i := 0; i < lines; i++ {
		fmt.Fprintf(&b, "%stest/test_mod.py::test_case_%d PASSED\n", ts, i)
	}
	fmt.Fprintf(&b, "%sFAILED test/test_mod.py::test_job_%d - AssertionError: boom\n", ts, id)
	return b.Bytes()
}
