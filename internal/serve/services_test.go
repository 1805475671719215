package serve_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/serve"
)

// recService records Start/Stop calls into a shared log.
type recService struct {
	name     string
	log      *[]string
	mu       *sync.Mutex
	startErr error
	dbAlive  func() error // checked during Stop: the database must still be open
}

func (r *recService) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.log = append(*r.log, "start "+r.name)
	return r.startErr
}

func (r *recService) Stop(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	entry := "stop " + r.name
	if r.dbAlive != nil {
		if err := r.dbAlive(); err != nil {
			entry += " (db closed: " + err.Error() + ")"
		}
	}
	*r.log = append(*r.log, entry)
	return nil
}

func TestServicesStartAndStopWithServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := serve.New(ctx, serve.Options{Addr: "127.0.0.1:0", DatabaseURL: dbtest.SQLiteURL(t), Secrets: []string{secret}})
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	var mu sync.Mutex
	alive := func() error { return srv.DB().Ping(context.Background()) }
	srv.AddService(&recService{name: "a", log: &log, mu: &mu, dbAlive: alive})
	srv.AddService(&recService{name: "b", log: &log, mu: &mu, dbAlive: alive})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(log)
		mu.Unlock()
		if n == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if got, want := strings.Join(log, ", "), "start a, start b, stop b, stop a"; got != want {
		t.Errorf("calls = %s, want %s", got, want)
	}
}

func TestServiceStartFailureStopsServer(t *testing.T) {
	srv, err := serve.New(context.Background(), serve.Options{Addr: "127.0.0.1:0", DatabaseURL: dbtest.SQLiteURL(t), Secrets: []string{secret}})
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	var mu sync.Mutex
	srv.AddService(&recService{name: "a", log: &log, mu: &mu})
	srv.AddService(&recService{name: "b", log: &log, mu: &mu, startErr: errors.New("boom")})
	srv.AddService(&recService{name: "c", log: &log, mu: &mu})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = srv.Serve(context.Background(), ln) // returns without cancellation
	if err == nil || !strings.Contains(err.Error(), "start service 1: boom") {
		t.Fatalf("Serve = %v, want the start error", err)
	}
	if got, want := strings.Join(log, ", "), "start a, start b, stop c, stop b, stop a"; got != want {
		t.Errorf("calls = %s, want %s", got, want)
	}
}

func TestCloseStopsServicesNeverStarted(t *testing.T) {
	srv, err := serve.New(context.Background(), serve.Options{DatabaseURL: dbtest.SQLiteURL(t), Secrets: []string{secret}})
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	var mu sync.Mutex
	srv.AddService(&recService{name: "a", log: &log, mu: &mu})
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(log, ", "); got != "stop a" {
		t.Errorf("calls = %s, want one stop", got)
	}
}
