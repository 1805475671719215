package webhooks

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/ghsync/ghsync/internal/db"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrate creates or upgrades the webhook tables (deliveries and the
// projections) in d. It is safe to call on every start.
func Migrate(ctx context.Context, d *db.DB) error {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("webhook migrations: %w", err)
	}
	return d.Migrate(ctx, "webhooks", sub)
}
