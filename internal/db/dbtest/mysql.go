package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/ghsync/ghsync/internal/db"
)

// MySQLEnv is the environment variable naming the test MySQL/MariaDB server, in
// go-sql-driver DSN form (for example root@tcp(127.0.0.1:3306)/test).
const MySQLEnv = "GHSYNC_TEST_MYSQL_DSN"

// EachDialect runs fn in a subtest per dialect that API table sync supports
// ("sqlite", "postgres", "mysql"), each with its own fresh database. The
// postgres and mysql subtests skip loudly when their variables are unset.
func EachDialect(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
	t.Run("mysql", func(t *testing.T) { fn(t, MySQL(t)) })
}

// MySQL opens a fresh database on the test MySQL/MariaDB server and drops it at
// cleanup. It skips the test loudly when GHSYNC_TEST_MYSQL_DSN is unset.
func MySQL(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), MySQLURL(t), nil)
	if err != nil {
		t.Fatalf("open mysql: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// MySQLURL creates a fresh database (t_<random>) on the server named by
// GHSYNC_TEST_MYSQL_DSN and returns its mysql:// URL; the database is dropped
// at cleanup. It skips the test loudly when the variable is unset.
func MySQLURL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(MySQLEnv)
	if dsn == "" {
		fmt.Fprintf(os.Stderr, "SKIPPING MySQL test %s: %s is not set\n", t.Name(), MySQLEnv)
		t.Skipf("SKIPPED: MySQL tests need %s (e.g. root@tcp(127.0.0.1:3306)/test)", MySQLEnv)
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", MySQLEnv, err)
	}
	cfg.DBName = ""
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("open %s: %v", MySQLEnv, err)
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	name := "t_" + hex.EncodeToString(rnd[:])
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+name+" CHARACTER SET utf8mb4"); err != nil {
		admin.Close()
		t.Fatalf("create database on %s: %v", MySQLEnv, err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE "+name); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	u := url.URL{Scheme: "mysql", Host: cfg.Addr, Path: "/" + name}
	if cfg.Passwd != "" {
		u.User = url.UserPassword(cfg.User, cfg.Passwd)
	} else {
		u.User = url.User(cfg.User)
	}
	return u.String()
}
