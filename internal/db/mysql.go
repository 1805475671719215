package db

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQLConfig parses mysql://USER[:PASS]@HOST[:PORT]/DB[?param=value…] into the
// driver's configuration: TCP, utf8mb4, UTC timestamps, port 3306 by default.
// Query parameters other than the ones below are passed to the server as
// session variables by the driver (see go-sql-driver/mysql's DSN parameters);
// tls=true|skip-verify|preferred selects TLS. Errors never contain the password.
func MySQLConfig(rawURL string) (*mysql.Config, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("mysql URL does not parse (want mysql://USER[:PASS]@HOST[:PORT]/DB)")
	}
	if u.Scheme != "mysql" {
		return nil, fmt.Errorf("mysql URL: scheme %q, want mysql", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("mysql URL: missing host (want mysql://USER[:PASS]@HOST[:PORT]/DB)")
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	if dbName == "" || strings.Contains(dbName, "/") {
		return nil, errors.New("mysql URL: missing or invalid database name (want mysql://USER[:PASS]@HOST[:PORT]/DB)")
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = u.Host + ":3306"
	}
	cfg.DBName = dbName
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.Loc = time.UTC
	cfg.ParseTime = true
	cfg.Collation = "utf8mb4_unicode_ci"
	for k, vs := range u.Query() {
		if len(vs) == 0 {
			continue
		}
		v := vs[len(vs)-1]
		switch k {
		case "tls":
			cfg.TLSConfig = v
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, fmt.Errorf("mysql URL: timeout=%q: %w", v, err)
			}
			cfg.Timeout = d
		default:
			if cfg.Params == nil {
				cfg.Params = map[string]string{}
			}
			cfg.Params[k] = v
		}
	}
	return cfg, nil
}

func openMySQL(rawURL string) (*DB, error) {
	cfg, err := MySQLConfig(rawURL)
	if err != nil {
		return nil, err
	}
	if cfg.TLSConfig != "" {
		// FormatDSN/ParseDSN registers the named TLS modes (true, skip-verify…).
		if cfg, err = mysql.ParseDSN(cfg.FormatDSN()); err != nil {
			return nil, errors.New("mysql URL: invalid parameters")
		}
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("open mysql: %w", err)
	}
	p := sql.OpenDB(conn)
	p.SetMaxOpenConns(16)
	p.SetMaxIdleConns(16)
	// Servers close idle connections (wait_timeout); recycle before that.
	p.SetConnMaxLifetime(5 * time.Minute)
	return &DB{dialect: MySQL, W: p, R: p}, nil
}
