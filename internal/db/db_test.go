package db_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
)

func TestMigrateAndQuery(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fsys := fstest.MapFS{
			"0001_things.sql": {Data: []byte("CREATE TABLE things (\n id {{serial}},\n name TEXT NOT NULL UNIQUE,\n doc {{json}},\n raw {{bytes}}\n);\n-- comment\nCREATE INDEX things_name ON things (name);\n")},
			"0002_more.sql":   {Data: []byte("ALTER TABLE things ADD COLUMN n INTEGER;\n")},
		}
		for i := 0; i < 2; i++ { // idempotent
			if err := d.Migrate(ctx, "test", fsys); err != nil {
				t.Fatalf("migrate #%d: %v", i, err)
			}
		}
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM ghsync_migrations WHERE component = ?", "test").Scan(&n); err != nil || n != 2 {
			t.Fatalf("versions = %d, %v; want 2", n, err)
		}
		if _, err := d.Exec(ctx, "INSERT INTO things (name, doc, raw, n) VALUES (?, ?, ?, ?)", "a?b", `{"x":1}`, []byte{0, 1, 2}, 7); err != nil {
			t.Fatal(err)
		}
		res, err := d.Exec(ctx, "INSERT INTO things (name, n) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", "a?b", 8)
		if err != nil {
			t.Fatal(err)
		}
		if ra, _ := res.RowsAffected(); ra != 0 {
			t.Fatalf("duplicate insert affected %d rows", ra)
		}
		var raw []byte
		var name string
		if err := d.QueryRow(ctx, "SELECT name, raw FROM things WHERE name = 'a?b' AND n = ?", 7).Scan(&name, &raw); err != nil {
			t.Fatal(err)
		}
		if name != "a?b" || string(raw) != "\x00\x01\x02" {
			t.Fatalf("got %q %v", name, raw)
		}
		// A broken migration is rolled back and reported.
		bad := fstest.MapFS{"0003_bad.sql": {Data: []byte("CREATE TABLE ok_table (x INTEGER);\nTHIS IS NOT SQL;\n")}}
		if err := d.Migrate(ctx, "test", bad); err == nil {
			t.Fatal("bad migration succeeded")
		}
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM ok_table").Scan(&n); err == nil {
			t.Fatal("partial migration was not rolled back")
		}
	})
}

func TestConcurrentMigrate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		fsys := fstest.MapFS{"0001_t.sql": {Data: []byte("CREATE TABLE t1 (x INTEGER);\n")}}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = d.Migrate(context.Background(), "c", fsys) }()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRebind(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t)
	if got := d.Rebind("a = ? AND b = '?'"); got != "a = ? AND b = '?'" {
		t.Fatalf("sqlite rebind changed query: %s", got)
	}
	_ = ctx
}

func TestSQLiteCreatesDirAndIsDurable(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a", "b")
	d, err := db.Open(ctx, "sqlite://"+dir+"/x.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := os.Stat(filepath.Join(dir, "x.db")); err != nil {
		t.Fatalf("database file not created: %v", err)
	}
	var mode string
	var sync int
	if err := d.W.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v", mode, err)
	}
	if err := d.W.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Fatalf("synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
	if _, err := d.R.ExecContext(ctx, "CREATE TABLE nope (x INTEGER)"); err == nil {
		t.Fatal("reader handle accepted a write")
	}
}

func TestOpenErrors(t *testing.T) {
	for _, u := range []string{"", "mysql://x", "nourl"} {
		if _, err := db.Open(context.Background(), u, nil); err == nil {
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}

func TestMySQL(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MySQL(t)
	if d.Dialect() != db.MySQL {
		t.Fatalf("dialect = %q", d.Dialect())
	}
	if _, err := d.Exec(ctx, "CREATE TABLE things (name VARCHAR(100) PRIMARY KEY, n INTEGER) DEFAULT CHARSET=utf8mb4"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(ctx, "INSERT INTO things (name, n) VALUES (?, ?) ON DUPLICATE KEY UPDATE n = VALUES(n)", "é?🙂", 1); err != nil {
		t.Fatal(err)
	}
	var name string
	var n int
	if err := d.QueryRow(ctx, "SELECT name, n FROM things").Scan(&name, &n); err != nil || name != "é?🙂" || n != 1 {
		t.Fatalf("got %q %d %v", name, n, err)
	}
	if err := d.Migrate(ctx, "test", fstest.MapFS{}); err == nil {
		t.Fatal("Migrate on mysql succeeded; want a clear refusal")
	}
}

func TestMySQLURLErrors(t *testing.T) {
	for _, u := range []string{"mysql://x", "mysql://root:sekrit@h:3306/", "mysql://root:sekrit@/db"} {
		_, err := db.Open(context.Background(), u, nil)
		if err == nil {
			t.Errorf("Open(%q) succeeded", u)
			continue
		}
		if strings.Contains(err.Error(), "sekrit") {
			t.Errorf("Open(%q) error leaks the password: %v", u, err)
		}
	}
	cfg, err := db.MySQLConfig("mysql://u:p%40ss@db.example:3307/app?tls=true&sql_mode=ANSI")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "u" || cfg.Passwd != "p@ss" || cfg.Addr != "db.example:3307" || cfg.DBName != "app" || cfg.TLSConfig != "true" || cfg.Params["sql_mode"] != "ANSI" {
		t.Fatalf("config = %+v", cfg)
	}
}
