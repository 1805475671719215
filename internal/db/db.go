// Package db opens ghsync's SQL database by URL and runs embedded migrations.
//
// Two dialects are supported with one schema and one set of queries:
//
//   - sqlite://PATH (for example sqlite://./data/ghsync.db, or sqlite:///abs/path.db)
//     uses modernc.org/sqlite (pure Go) in WAL mode with synchronous=FULL, so a
//     committed transaction survives power loss and kill -9. The parent directory
//     is created. One writer connection serialises writes (SQLite allows one
//     writer at a time anyway); a separate read-only pool serves reads.
//   - postgres://… or postgresql://… uses github.com/jackc/pgx/v5/stdlib. Writer
//     and reader are the same pool.
//   - mysql://USER[:PASS]@HOST[:PORT]/DB[?param=value…] (MySQL and MariaDB) uses
//     github.com/go-sql-driver/mysql, utf8mb4, UTC. Writer and reader are the
//     same pool. Query parameters are passed to the driver (for example
//     tls=true). This dialect serves API table sync targets; [DB.Migrate]
//     refuses it (ghsync's own state lives in SQLite or PostgreSQL).
//
// Queries are written with '?' placeholders; [DB.Rebind] translates them to
// $1, $2, … for PostgreSQL. The helper methods ([DB.Exec], [DB.Query], …) rebind
// automatically.
//
// Usage:
//
//	d, err := db.Open(ctx, "sqlite://./data/ghsync.db", logger)
//	if err != nil { … }
//	defer d.Close()
//	err = d.Migrate(ctx, "webhooks", migrationsFS)
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Dialect names the SQL flavour behind a [DB].
type Dialect string

const (
	// SQLite is modernc.org/sqlite.
	SQLite Dialect = "sqlite"
	// Postgres is PostgreSQL through pgx.
	Postgres Dialect = "postgres"
	// MySQL is MySQL or MariaDB through go-sql-driver/mysql.
	MySQL Dialect = "mysql"
)

// DB is an open database: a writer handle and a reader handle (the same pool for
// PostgreSQL). It is safe for concurrent use.
type DB struct {
	dialect Dialect
	// W is the handle for writes and read-modify-write transactions. For SQLite
	// it holds exactly one connection.
	W *sql.DB
	// R is the handle for read-only queries. For SQLite it is a separate pool of
	// read-only connections that see every committed write (WAL).
	R      *sql.DB
	logger *slog.Logger
	url    string
	// SQLite only: background checkpointer (see openSQLite).
	ckpt     *sql.DB
	ckptStop chan struct{}
	ckptDone chan struct{}
}

// Open opens the database named by rawURL and checks that it answers. The
// caller must Close it. Supported schemes: sqlite, postgres, postgresql, mysql.
// A nil logger discards logs.
func Open(ctx context.Context, rawURL string, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := CheckURL(rawURL); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	scheme, rest, _ := strings.Cut(rawURL, "://")
	var d *DB
	var err error
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		d, err = openSQLite(rest)
	case "postgres", "postgresql":
		d, err = openPostgres(rawURL)
	case "mysql":
		d, err = openMySQL(rawURL)
	default:
		return nil, fmt.Errorf("open database %q: unsupported scheme %q (want sqlite, postgres or mysql)", redact(rawURL), scheme)
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", redact(rawURL), err)
	}
	d.logger = logger
	d.url = redact(rawURL)
	if err := d.Ping(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("open database %s: %w", d.url, err)
	}
	return d, nil
}

func openSQLite(rest string) (*DB, error) {
	path, query, _ := strings.Cut(rest, "?")
	if path == "" {
		return nil, errors.New("empty sqlite path")
	}
	if path != ":memory:" {
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("create directory %s: %w", dir, err)
			}
		}
	}
	extra := ""
	if query != "" {
		extra = "&" + query
	}
	// synchronous=FULL: with WAL, NORMAL may lose the last commits on power
	// loss; ghsync answers GitHub 2xx only after a commit, so FULL is required.
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_time_format=sqlite"
	// wal_autocheckpoint(0): checkpoints run on a separate connection in the
	// background (PASSIVE, they do not block writers), so that no commit on the
	// request path pays for copying the WAL into the database file.
	// journal_size_limit: a WAL that grew during a burst is truncated back to
	// 64 MiB when it restarts.
	wdsn := "file:" + path + "?" + common + "&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(67108864)&_txlock=immediate" + extra
	w, err := sql.Open("sqlite", wdsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	// Create the file and switch to WAL before readers open it.
	if _, err := w.Exec("SELECT 1"); err != nil {
		w.Close()
		return nil, fmt.Errorf("initialise sqlite: %w", err)
	}
	rdsn := "file:" + path + "?" + common + "&_pragma=query_only(1)" + extra
	r, err := sql.Open("sqlite", rdsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite reader: %w", err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	c, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=synchronous(FULL)"+extra)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open sqlite checkpointer: %w", err)
	}
	c.SetMaxOpenConns(1)
	d := &DB{dialect: SQLite, W: w, R: r, ckpt: c, ckptStop: make(chan struct{}), ckptDone: make(chan struct{})}
	go d.checkpointLoop()
	return d, nil
}

// checkpointInterval is how often the SQLite WAL is copied into the database.
// Short, so a burst never leaves a large WAL whose catch-up checkpoint would
// compete with later commits' fsyncs (measured: p99 at 500/s after a 37k
// burst 55–79 ms with 500 ms, 5–6 ms with 100 ms; bench/webhooks).
const checkpointInterval = 100 * time.Millisecond

// checkpointLoop runs PASSIVE checkpoints until Close; a final TRUNCATE
// checkpoint runs at Close.
func (d *DB) checkpointLoop() {
	defer close(d.ckptDone)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-d.ckptStop:
			return
		case <-t.C:
			if _, err := d.ckpt.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil && d.logger != nil {
				d.logger.Warn("sqlite checkpoint failed", "err", err)
			}
		}
	}
}

func openPostgres(rawURL string) (*DB, error) {
	p, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	p.SetMaxOpenConns(16)
	p.SetMaxIdleConns(16)
	return &DB{dialect: Postgres, W: p, R: p}, nil
}

// Dialect reports which SQL flavour this database speaks.
func (d *DB) Dialect() Dialect { return d.dialect }

// String returns the database URL with any password removed.
func (d *DB) String() string { return d.url }

// Ping checks that the database answers (both handles).
func (d *DB) Ping(ctx context.Context) error {
	if err := d.W.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if d.R != d.W {
		if err := d.R.PingContext(ctx); err != nil {
			return fmt.Errorf("ping reader: %w", err)
		}
	}
	return nil
}

// Close closes both handles.
func (d *DB) Close() error {
	var errs []error
	if d.ckpt != nil {
		close(d.ckptStop)
		<-d.ckptDone
		_, _ = d.ckpt.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		errs = append(errs, d.ckpt.Close())
		d.ckpt = nil
	}
	if d.R != nil && d.R != d.W {
		errs = append(errs, d.R.Close())
	}
	if d.W != nil {
		errs = append(errs, d.W.Close())
	}
	return errors.Join(errs...)
}

// Rebind rewrites '?' placeholders into the dialect's form ($1, $2, … for
// PostgreSQL). Question marks inside single-quoted string literals are kept.
func (d *DB) Rebind(q string) string {
	if d.dialect != Postgres {
		return q
	}
	return rebindDollar(q)
}

func rebindDollar(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	inStr := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inStr = !inStr
			b.WriteByte(c)
		case c == '?' && !inStr:
			n++
			fmt.Fprintf(&b, "$%d", n)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Exec runs a write statement on the writer handle.
func (d *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.W.ExecContext(ctx, d.Rebind(q), args...)
}

// Query runs a read query on the reader handle.
func (d *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.R.QueryContext(ctx, d.Rebind(q), args...)
}

// QueryRow runs a single-row read query on the reader handle.
func (d *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return d.R.QueryRowContext(ctx, d.Rebind(q), args...)
}

// Tx is a write transaction whose helpers rebind placeholders.
type Tx struct {
	*sql.Tx
	d *DB
}

// Begin starts a write transaction on the writer handle. For SQLite it takes
// the write lock immediately (BEGIN IMMEDIATE).
func (d *DB) Begin(ctx context.Context) (*Tx, error) {
	tx, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Tx{Tx: tx, d: d}, nil
}

// Exec runs a statement inside the transaction.
func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.d.Rebind(q), args...)
}

// Query runs a query inside the transaction.
func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, t.d.Rebind(q), args...)
}

// QueryRow runs a single-row query inside the transaction.
func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, t.d.Rebind(q), args...)
}

// redact removes a password from a database URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
