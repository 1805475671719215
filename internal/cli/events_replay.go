package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/webhooks"
)

func (a *app) eventsReplayCmd() *cobra.Command {
	var database string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "replay DELIVERY",
		Short: "Project a stored delivery again",
		Long: `Queue the stored delivery DELIVERY (its X-GitHub-Delivery id, as
ghsync events deliveries lists it) to be projected again: the worker of
ghsync serve on the same database projects it on its next pass (within a
second), through the same ordering guard as a new delivery, so a row that
already holds newer state keeps it. Use it after fixing what made a projection
fail (a delivery given up on after its attempts), or to rebuild a projection.
The payload must still be in the database.`,
		Example: "  ghsync events replay 72d3162e-cc78-11e3-81ab-4c9367dc0958",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return jobs.Usagef("events replay needs one DELIVERY id (got %d arguments); see ghsync events deliveries", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			// Opened read-only first: replay never creates a database.
			ro, err := a.readDB(cmd.Context(), database, cfg, "webhooks")
			if err != nil {
				return err
			}
			ro.Close()
			url := cfg.Database
			if database != "" {
				url = database
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			d, err := db.Open(ctx, url, a.logger)
			if err != nil {
				return err
			}
			defer d.Close()
			r, err := webhooks.Replay(ctx, d, args[0])
			if errors.Is(err, webhooks.ErrNoDelivery) {
				return jobs.Usage(err)
			}
			if err != nil {
				return err
			}
			if jsonOut {
				a.emitJSON(r)
				return nil
			}
			was := "not projected yet"
			if r.WasProcessed {
				was = "projected before"
			}
			fmt.Fprintf(a.env.Stdout, "%s delivery %s (%s) queued for projection; `ghsync serve` on %s projects it on its next pass\n",
				r.Event, r.DeliveryID, was, d)
			return nil
		},
	}
	cmd.Flags().StringVar(&database, "database", "", "database URL (default: the config's database)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON object: {delivery_id, event, was_processed}")
	return cmd
}
