package db

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migrate applies, in order, every migration in fsys that is not yet recorded
// for component in the ghsync_migrations table, each in its own transaction
// together with its record. It is safe to call on every start and from several
// processes at once.
//
// Migration files are named NNNN_description.sql (NNNN a positive integer,
// unique per component) at the root of fsys. Statements are separated by a ';'
// at the end of a line. Dialect differences are written as placeholders:
//
//	{{json}}   TEXT (SQLite) / JSONB (PostgreSQL)
//	{{bytes}}  BLOB / BYTEA
//	{{serial}} INTEGER PRIMARY KEY AUTOINCREMENT / BIGSERIAL PRIMARY KEY
//
// MySQL databases are refused: they are API table sync targets only.
func (d *DB) Migrate(ctx context.Context, component string, fsys fs.FS) error {
	if d.dialect == MySQL {
		return fmt.Errorf("migrate %s: %s: ghsync's own tables need sqlite or postgres, not mysql", component, d.url)
	}
	migs, err := readMigrations(fsys)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	if err := d.createMigrationsTable(ctx); err != nil {
		return fmt.Errorf("migrate %s: create ghsync_migrations: %w", component, err)
	}
	for _, m := range migs {
		if err := d.applyOne(ctx, component, m); err != nil {
			return fmt.Errorf("migrate %s: %s: %w", component, m.name, err)
		}
	}
	return nil
}

// createMigrationsTable creates the versions table; on PostgreSQL under an
// advisory lock, because concurrent CREATE TABLE IF NOT EXISTS can collide there.
func (d *DB) createMigrationsTable(ctx context.Context) error {
	tx, err := d.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if d.dialect == Postgres {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(?)", lockKey("ghsync_migrations")); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS ghsync_migrations (
		component TEXT NOT NULL,
		version INTEGER NOT NULL,
		name TEXT NOT NULL,
		applied_at TEXT NOT NULL,
		PRIMARY KEY (component, version))`); err != nil {
		return err
	}
	return tx.Commit()
}

func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64() >> 1)
}

type migration struct {
	version int
	name    string
	sql     string
}

func readMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var out []migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

func (d *DB) applyOne(ctx context.Context, component string, m migration) error {
	tx, err := d.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if d.dialect == Postgres {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(?)", lockKey("ghsync_migrations/"+component)); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM ghsync_migrations WHERE component = ? AND version = ?", component, m.version).Scan(&n); err != nil {
		return fmt.Errorf("check version: %w", err)
	}
	if n > 0 {
		return nil
	}
	for _, stmt := range splitStatements(d.expand(m.sql)) {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("exec %q: %w", firstLine(stmt), err)
		}
	}
	if _, err := tx.Exec(ctx, "INSERT INTO ghsync_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)",
		component, m.version, m.name, Now()); err != nil {
		return fmt.Errorf("record version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	d.logger.Info("applied migration", "component", component, "migration", m.name, "database", d.url)
	return nil
}

func (d *DB) expand(s string) string {
	var r *strings.Replacer
	if d.dialect == Postgres {
		r = strings.NewReplacer("{{json}}", "JSONB", "{{bytes}}", "BYTEA", "{{serial}}", "BIGSERIAL PRIMARY KEY")
	} else {
		r = strings.NewReplacer("{{json}}", "TEXT", "{{bytes}}", "BLOB", "{{serial}}", "INTEGER PRIMARY KEY AUTOINCREMENT")
	}
	return r.Replace(s)
}

func splitStatements(s string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(s, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			if st := strings.TrimSpace(cur.String()); st != ";" {
				out = append(out, st)
			}
			cur.Reset()
		}
	}
	if st := strings.TrimSpace(cur.String()); st != "" {
		out = append(out, st)
	}
	return out
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
