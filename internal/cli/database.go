package cli

import (
	"context"
	"errors"
	"time"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/jobs"
)

// readDB opens what `ghsync serve` stored, for verbs that only read it:
// the --database flag's URL, else the config's database:. It never creates
// a database (db.OpenReadOnly). A malformed URL is a usage error (exit 2);
// a database that is missing, empty or unreachable is an error (exit 1)
// naming it ("no ghsync database at … (run `ghsync serve` first)").
func (a *app) readDB(ctx context.Context, flag string, cfg *config.Config, component string) (*db.DB, error) {
	url := cfg.Database
	if flag != "" {
		url = flag
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d, err := db.OpenReadOnly(ctx, url, component, a.logger)
	if errors.Is(err, db.ErrBadURL) {
		return nil, jobs.Usage(err)
	}
	return d, err
}

// explicitDB reports whether the user named a database (--database, or a
// database: in the config file other than the default) rather than relying
// on the default SQLite file.
func explicitDB(flag string, cfg *config.Config) bool {
	return flag != "" || cfg.Database != config.DefaultDatabase
}
