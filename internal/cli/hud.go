package cli

import (
	"fmt"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghsync/ghsync/internal/hud"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/store"
)

func (a *app) hudCmd() *cobra.Command {
	var addr string
	var refresh time.Duration
	cmd := &cobra.Command{
		Use:   "hud DEST",
		Short: "Serve the status snapshots in DEST as a HUD web page (ghsync serve also shows it under /ui/hud/)",
		Long: `Serve the snapshots that ghsync statuses wrote to DEST as a grid per branch:
commits down, job names across, a coloured cell per job linking to its details,
a job-name filter and auto-refresh. Stops on Ctrl-C.`,
		Example: `  ghsync hud file://./hud
  ghsync hud --addr 127.0.0.1:8081 's3://acme-hud/v5/?region=eu-west-1'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return jobs.Usagef("hud needs DEST, the statuses destination (got %d arguments)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			b, err := store.Open(ctx, args[0], store.Options{Logger: a.logger})
			if err != nil {
				return jobs.Usagef("%v", err)
			}
			defer b.Close()
			h, err := hud.New(hud.Options{Bucket: b, Refresh: refresh, Logger: a.logger})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "HUD for %s on http://%s/\n", store.Redact(args[0]), addr)
			return hud.Serve(ctx, addr, h, a.logger)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8081", "listen address")
	cmd.Flags().DurationVar(&refresh, "refresh", time.Minute, "auto-refresh interval of the pages")
	return cmd
}
