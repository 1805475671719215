package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/store"
	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/logs"
)

// benchServer is what the phases need from the server under test.
type benchServer interface {
	DB() *db.DB
	Serve(ctx context.Context, ln net.Listener) error
}

// directServer assembles the webhook path the way `ghsync serve` does
// (webhooks.Service on a mux, started and closed around http.Server) and,
// with logSize > 0, the log downloader: every completed job's log is fetched
// from an in-process fake of GitHub's logs API (302 to a fake blob store
// serving a logSize-byte CI log), gzip-stored to mem:// and classified. It
// exists because serve cannot be given a logs.Downloader yet.
type directServer struct {
	d      *db.DB
	svc    *webhooks.Service
	mux    *http.ServeMux
	fake   *httptest.Server
	bucket *store.Bucket
	dl     *logs.Downloader
	logs   atomic.Int64
}

func newDirect(ctx context.Context, dbURL string, logSize, logConc, logCPU int) (*directServer, error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	d, err := db.Open(ctx, dbURL, log)
	if err != nil {
		return nil, err
	}
	if err := webhooks.Migrate(ctx, d); err != nil {
		return nil, err
	}
	s := &directServer{d: d, mux: http.NewServeMux()}
	reg := prometheus.NewRegistry()
	cfg := webhooks.Config{DB: d, Secrets: []string{secret}, Logger: log, Registerer: reg}
	if logSize > 0 {
		body := benchLog(logSize)
		s.fake = fakeLogsAPI(body, &s.logs)
		gh, err := github.New(github.Config{BaseURL: s.fake.URL, Token: "bench-token", Logger: log})
		if err != nil {
			return nil, err
		}
		if s.bucket, err = store.Open(ctx, "mem://bench-logs/", store.Options{}); err != nil {
			return nil, err
		}
		policy := logs.Policy{Default: logs.All}
		if failEvery > 0 {
			policy.Default = logs.Failures
		}
		s.dl, err = logs.New(logs.Options{DB: d, GitHub: gh, Bucket: s.bucket, Policy: policy,
			Concurrency: logConc, CPUWorkers: logCPU, Logger: log, Registerer: reg})
		if err != nil {
			return nil, err
		}
		cfg.Logs = s.dl
	}
	if s.svc, err = webhooks.New(cfg); err != nil {
		return nil, err
	}
	s.mux.Handle("POST /api/github/webhooks", s.svc.Handler())
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return s, nil
}

func (s *directServer) DB() *db.DB { return s.d }

func (s *directServer) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	s.svc.Start()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hs.Shutdown(sctx)
	err := s.svc.Close(sctx)
	if s.dl != nil {
		var done int
		s.d.QueryRow(sctx, "SELECT COUNT(*) FROM log_downloads WHERE state = 'done'").Scan(&done)
		var queued int
		s.d.QueryRow(sctx, "SELECT COUNT(*) FROM log_downloads").Scan(&queued)
		fmt.Printf("logs: %d completed jobs queued, %d logs stored and classified while the phases ran (%d blob GETs)\n", queued, done, s.logs.Load())
		s.fake.Close()
		s.bucket.Close()
	}
	s.d.Close()
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) {
		return e
	}
	return err
}

// benchLog is a size-byte CI log ending in a pytest failure.
func benchLog(size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "2024-05-01T10:00:%02d.0000000Z test/test_mod.py::test_case_%d \x1b[32mPASSED\x1b[0m\n", i%60, i)
	}
	b.WriteString("2024-05-01T10:01:00.0000000Z FAILED test/test_mod.py::test_x - AssertionError\n")
	return b.Bytes()
}

// fakeLogsAPI serves GitHub's job-logs API as GitHub does: a 302 to a blob
// store, which answers body and refuses requests carrying credentials;
// blobs counts the blob GETs.
func fakeLogsAPI(body []byte, blobs *atomic.Int64) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/blob/") {
			if r.Header.Get("Authorization") != "" {
				http.Error(w, "credentials sent to blob storage", http.StatusBadRequest)
				return
			}
			blobs.Add(1)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body)
			return
		}
		w.Header().Set("Location", "http://"+r.Host+"/blob"+r.URL.Path+"?sig=x")
		w.WriteHeader(http.StatusFound)
	}))
}
