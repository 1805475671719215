package scheduler

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/ghsync/ghsync/internal/slogx"
	"github.com/riverqueue/river/rivertype"

	"github.com/ghsync/ghsync/internal/db"
)

// engine is a River client with its transaction type erased.
type engine interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	insert(ctx context.Context, args JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

type clientEngine[TTx any] struct{ *river.Client[TTx] }

func (c clientEngine[TTx]) insert(ctx context.Context, args JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return c.Client.Insert(ctx, args, opts)
}

// openEngine migrates River's schema and builds the client for the
// database's dialect.
func (s *Scheduler) openEngine(ctx context.Context) error {
	switch s.cfg.DB.Dialect() {
	case db.SQLite:
		// River shares ghsync's single SQLite writer connection, as the
		// riversqlite driver recommends (one connection, no SQLITE_BUSY).
		drv := riversqlite.New(s.cfg.DB.W)
		if err := migrateRiver(ctx, drv, s); err != nil {
			return err
		}
		c, err := river.NewClient(drv, s.riverConfig())
		if err != nil {
			return fmt.Errorf("river client: %w", err)
		}
		s.engine = clientEngine[*sql.Tx]{c}
	case db.Postgres:
		pool, err := pgxpool.New(ctx, s.cfg.DatabaseURL)
		if err != nil {
			return fmt.Errorf("open River's PostgreSQL pool for %s: %w", s.cfg.DB.String(), err)
		}
		s.pool = pool
		drv := riverpgxv5.New(pool)
		// Replicas starting together must not run River's migrations at
		// the same time: serialise them on a session advisory lock.
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("connect to %s: %w", s.cfg.DB.String(), err)
		}
		defer conn.Release()
		key := lockKey("ghsync/river-migrate")
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
			return fmt.Errorf("lock River migrations: %w", err)
		}
		err = migrateRiver(ctx, drv, s)
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key); uerr != nil {
			s.log.Warn("unlocking River migrations failed", "err", uerr)
		}
		if err != nil {
			return err
		}
		c, err := river.NewClient(drv, s.riverConfig())
		if err != nil {
			return fmt.Errorf("river client: %w", err)
		}
		s.engine = clientEngine[pgx.Tx]{c}
	default:
		return fmt.Errorf("scheduler: unsupported database dialect %q", s.cfg.DB.Dialect())
	}
	return nil
}

func migrateRiver[TTx any](ctx context.Context, drv riverdriver.Driver[TTx], s *Scheduler) error {
	m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: slogx.DemoteInfo(s.cfg.Logger.With("component", "river-migrate"))})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("river migrations on %s: %w", s.cfg.DB.String(), err)
	}
	if len(res.Versions) > 0 {
		s.log.Info("applied River migrations", "count", len(res.Versions), "database", s.cfg.DB.String())
	}
	return nil
}

func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64() >> 1)
}
