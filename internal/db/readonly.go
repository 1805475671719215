package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ErrBadURL is matched (errors.Is) by errors about a database URL that is
// malformed or names an unsupported scheme (bad usage, not a failure to
// connect).
var ErrBadURL = errors.New("bad database URL")

// ErrNoDatabase is matched (errors.Is) by OpenReadOnly's error when the
// database does not exist yet or holds none of ghsync's tables.
var ErrNoDatabase = errors.New("no ghsync database")

// CheckURL reports whether rawURL is a database URL Open accepts (scheme,
// and the form of the rest), without connecting. Errors match ErrBadURL and
// never contain a password.
func CheckURL(rawURL string) error {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return fmt.Errorf("%w %q: want sqlite://PATH, postgres://… or mysql://…", ErrBadURL, redact(rawURL))
	}
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		if p, _, _ := strings.Cut(rest, "?"); p == "" {
			return fmt.Errorf("%w %q: empty sqlite path (want sqlite://PATH)", ErrBadURL, redact(rawURL))
		}
	case "postgres", "postgresql":
		if _, err := url.Parse(rawURL); err != nil {
			return fmt.Errorf("%w %s: does not parse as a URL", ErrBadURL, redact(rawURL))
		}
		if _, err := pgx.ParseConfig(rawURL); err != nil {
			return fmt.Errorf("%w %s: not a PostgreSQL connection URL", ErrBadURL, redact(rawURL))
		}
	case "mysql":
		if _, err := MySQLConfig(rawURL); err != nil {
			return fmt.Errorf("%w: %v", ErrBadURL, err)
		}
	default:
		return fmt.Errorf("%w %q: unsupported scheme %q (want sqlite, postgres or mysql)", ErrBadURL, redact(rawURL), scheme)
	}
	return nil
}

// OpenReadOnly opens an existing ghsync database for reading, for verbs
// that only read what `ghsync serve` stored. Unlike Open it never creates
// anything: a SQLite file is opened read-only (mode=ro) and must exist. It
// fails with an error matching ErrNoDatabase ("no ghsync database at …
// (run `ghsync serve` first)") when the file is missing or the database
// holds no migrations of component ("webhooks", "scheduler"), with
// ErrBadURL for malformed URLs, and otherwise when the database cannot be
// reached.
func OpenReadOnly(ctx context.Context, rawURL, component string, logger *slog.Logger) (*DB, error) {
	if err := CheckURL(rawURL); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	none := func() error {
		return fmt.Errorf("%w at %s (run `ghsync serve` first)", ErrNoDatabase, redact(rawURL))
	}
	scheme, rest, _ := strings.Cut(rawURL, "://")
	var d *DB
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		path, query, _ := strings.Cut(rest, "?")
		if path == ":memory:" {
			return nil, none()
		}
		if st, err := os.Stat(path); err != nil || st.IsDir() {
			return nil, none()
		}
		extra := ""
		if query != "" {
			extra = "&" + query
		}
		r, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)&_pragma=query_only(1)&_time_format=sqlite"+extra)
		if err != nil {
			return nil, fmt.Errorf("open database %s: %w", redact(rawURL), err)
		}
		r.SetMaxOpenConns(4)
		d = &DB{dialect: SQLite, W: r, R: r}
	default:
		var err error
		if d, err = Open(ctx, rawURL, logger); err != nil {
			return nil, err
		}
	}
	d.logger, d.url = logger, redact(rawURL)
	if err := d.Ping(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("open database %s: %w", d.url, err)
	}
	var n int
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM ghsync_migrations WHERE component = ?", component).Scan(&n); err != nil || n == 0 {
		d.Close()
		if err != nil && !isNoTable(err) {
			return nil, fmt.Errorf("open database %s: %w", d.url, err)
		}
		return nil, none()
	}
	return d, nil
}

// isNoTable reports whether err says a table does not exist (SQLite,
// PostgreSQL's 42P01, MySQL's 1146).
func isNoTable(err error) bool {
	m := err.Error()
	return strings.Contains(m, "no such table") || strings.Contains(m, "42P01") ||
		strings.Contains(m, "does not exist") || strings.Contains(m, "1146")
}
