// Package dbtest gives tests a fresh, isolated database on every dialect ghsync
// supports: a SQLite file in a temporary directory always, and a fresh schema in
// the PostgreSQL named by GHSYNC_TEST_POSTGRES_URL when that variable is set
// (skipped loudly otherwise).
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/ghsync/ghsync/internal/db"
)

// PostgresEnv is the environment variable naming the test PostgreSQL server.
const PostgresEnv = "GHSYNC_TEST_POSTGRES_URL"

// Each runs fn in a subtest per dialect ("sqlite", "postgres"), each with its own
// fresh database closed at the end of the subtest.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a fresh SQLite database in t.TempDir().
func SQLite(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), SQLiteURL(t), nil)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// SQLiteURL returns the URL of a fresh SQLite database file in t.TempDir().
func SQLiteURL(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "ghsync.db")
}

// Postgres opens a fresh schema in the test PostgreSQL and drops it at cleanup.
// It skips the test, with a loud message, when GHSYNC_TEST_POSTGRES_URL is unset.
func Postgres(t testing.TB) *db.DB {
	t.Helper()
	u := PostgresURL(t)
	d, err := db.Open(context.Background(), u, nil)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// PostgresURL creates a fresh schema in the test PostgreSQL and returns a URL
// whose connections use it (search_path); the schema is dropped at cleanup.
// It skips the test loudly when GHSYNC_TEST_POSTGRES_URL is unset.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		fmt.Fprintf(os.Stderr, "SKIPPING PostgreSQL test %s: %s is not set\n", t.Name(), PostgresEnv)
		t.Skipf("SKIPPED: PostgreSQL tests need %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", PostgresEnv)
	}
	ctx := context.Background()
	admin, err := db.Open(ctx, base, nil)
	if err != nil {
		t.Fatalf("open %s: %v", PostgresEnv, err)
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(rnd[:])
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	pu, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := pu.Query()
	q.Set("search_path", schema)
	pu.RawQuery = q.Encode()
	return pu.String()
}
