package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"sync/atomic"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/serve"
	"github.com/ghsync/ghsync/internal/webhooks/logs"
)

// serveLogs is `ghsync serve`'s server (serve.New with Options.Logs, as
// serve.ConfigOptions builds it from webhooks.logs) whose log downloader
// fetches every wanted completed job's log from an in-process fake of
// GitHub's logs API (302 to a fake blob store serving a logSize-byte CI
// log), gzip-stores it to mem:// and classifies it with the built-in
// ruleset.
type serveLogs struct {
	*serve.Server
	fake  *httptest.Server
	blobs atomic.Int64
}

func newServeLogs(ctx context.Context, dbURL string, logSize, logConc, logCPU int) (*serveLogs, error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	s := &serveLogs{}
	body := benchLog(logSize)
	s.fake = fakeLogsAPI(body, &s.blobs)
	gh, err := github.New(github.Config{BaseURL: s.fake.URL, Token: "bench-token", Logger: log})
	if err != nil {
		return nil, err
	}
	policy := logs.Policy{Default: logs.All}
	if failEvery > 0 {
		policy.Default = logs.Failures
	}
	s.Server, err = serve.New(ctx, serve.Options{DatabaseURL: dbURL, Secrets: []string{secret}, Logger: log,
		Logs: &serve.LogsOptions{GitHub: gh, Dest: "mem://bench-logs/", Policy: policy, Concurrency: logConc, CPUWorkers: logCPU}})
	if err != nil {
		s.fake.Close()
		return nil, err
	}
	return s, nil
}

// Serve runs the server until ctx ends, then prints how many logs were
// handled while the phases ran (counted before the shutdown).
func (s *serveLogs) Serve(ctx context.Context, ln net.Listener) error {
	inner, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Server.Serve(inner, ln) }()
	select {
	case err := <-done:
		s.fake.Close()
		return err
	case <-ctx.Done():
	}
	var queued, stored int
	d := s.DB()
	d.QueryRow(context.Background(), "SELECT COUNT(*) FROM log_downloads").Scan(&queued)
	d.QueryRow(context.Background(), "SELECT COUNT(*) FROM log_downloads WHERE state = 'done'").Scan(&stored)
	fmt.Printf("logs: %d completed jobs queued, %d logs stored and classified while the phases ran (%d blob GETs)\n", queued, stored, s.blobs.Load())
	cancel()
	err := <-done
	s.fake.Close()
	return err
}

var _ interface{ DB() *db.DB } = (*serveLogs)(nil)
