package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/serve"
)

func (a *app) serveCmd() *cobra.Command {
	var addr, database string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: GitHub webhook endpoint, read API, health and metrics",
		Long: `Run ghsync as a long-lived HTTP server:

  POST /api/github/webhooks   GitHub webhooks: signature-checked, stored durably before
                              the 2xx, deduplicated, projected into per-event tables
  GET  /api/deliveries        recent deliveries (event=, since=, limit=, cursor=)
  GET  /api/events/{table}    a projection table (repo=, status=, since=, limit=, cursor=)
  GET  /healthz /readyz /metrics

Webhook secrets come from webhooks.secrets in the config (a list, for rotation)
or GHSYNC_WEBHOOK_SECRET. Without one the server refuses to start unless
webhooks.insecure_no_signature is true. SIGTERM/SIGINT shut it down gracefully.`,
		Example: "  GHSYNC_WEBHOOK_SECRET=… ghsync serve --addr 0.0.0.0:8080 --database postgres://ghsync@db/ghsync",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			opts, err := a.serveOptions(cmd.Context(), cfg, addr, database)
			if err != nil {
				return err
			}
			a.logger.Info("ghsync serve starting", "addr", opts.Addr, "webhooks", opts.WebhookPath)
			return serve.Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	cmd.Flags().StringVar(&database, "database", "", "database URL: sqlite://PATH or postgres://… (default: the config's database:, else sqlite://./data/ghsync.db)")
	return cmd
}

// serveOptions builds the server's options from the config, flags and environment.
func (a *app) serveOptions(ctx context.Context, cfg *config.Config, addr, database string) (serve.Options, error) {
	w := cfg.Webhooks
	opts := serve.Options{Addr: addr, DatabaseURL: cfg.Database, InsecureNoSignature: w.InsecureNoSignature,
		WebhookPath: w.Path, ArchiveDest: w.Archive.Dest, ArchiveBatchBytes: int64(w.Archive.BatchBytes),
		ArchiveBatchAge: w.Archive.BatchAge.Std(), PerDelivery: w.Archive.PerDelivery, Logger: a.logger}
	if database != "" {
		opts.DatabaseURL = database
	}
	for i, s := range w.Secrets {
		v, err := s.Resolve(ctx)
		if err != nil {
			return opts, fmt.Errorf("webhooks.secrets[%d]: %w", i, err)
		}
		opts.Secrets = append(opts.Secrets, v)
	}
	if env := strings.TrimSpace(a.env.Getenv("GHSYNC_WEBHOOK_SECRET")); env != "" {
		opts.Secrets = append(opts.Secrets, env)
	}
	return opts, nil
}
