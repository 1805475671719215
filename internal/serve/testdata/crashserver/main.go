// Command crashserver runs a ghsync server for the crash test: it listens on
// -addr, uses -database, takes the webhook secret from GHSYNC_WEBHOOK_SECRET,
// prints "LISTENING <addr>" once ready, and runs until killed or interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/ghsync/ghsync/internal/serve"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	database := flag.String("database", "", "database URL")
	archive := flag.String("archive", "", "archive destination URL")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := serve.New(ctx, serve.Options{DatabaseURL: *database, Secrets: []string{os.Getenv("GHSYNC_WEBHOOK_SECRET")},
		ArchiveDest: *archive, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("LISTENING %s\n", ln.Addr())
	if err := srv.Serve(ctx, ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
