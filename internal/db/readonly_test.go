package db_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
)

var oneTable = fstest.MapFS{"0001_t.sql": {Data: []byte("CREATE TABLE t (x INTEGER);\n")}}

// OpenReadOnly never creates a SQLite database, says "no ghsync database"
// for a missing or empty one (on both dialects), refuses writes, and reads
// one that ghsync migrated.
func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := "sqlite://" + filepath.Join(dir, "no", "such.db")
	if _, err := db.OpenReadOnly(ctx, missing, "test", nil); !errors.Is(err, db.ErrNoDatabase) ||
		!strings.Contains(err.Error(), "no ghsync database at "+missing+" (run `ghsync serve` first)") {
		t.Errorf("missing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "no")); err == nil {
		t.Error("OpenReadOnly created the directory")
	}
	for name, newURL := range map[string]func(testing.TB) string{"sqlite": dbtest.SQLiteURL, "postgres": dbtest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			url := newURL(t)
			w, err := db.Open(ctx, url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if _, err := w.Exec(ctx, "CREATE TABLE unrelated (x INTEGER)"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.OpenReadOnly(ctx, url, "test", nil); !errors.Is(err, db.ErrNoDatabase) {
				t.Fatalf("without ghsync's tables: %v", err)
			}
			if err := w.Migrate(ctx, "test", oneTable); err != nil {
				t.Fatal(err)
			}
			r, err := db.OpenReadOnly(ctx, url, "test", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var n int
			if err := r.QueryRow(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if name == "sqlite" {
				if _, err := r.Exec(ctx, "INSERT INTO t VALUES (1)"); err == nil {
					t.Error("a write through a read-only SQLite handle succeeded")
				}
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	for url, ok := range map[string]bool{
		"sqlite://./data/ghsync.db": true, "postgres://u@h/db": true, "mysql://u@h/db": true,
		"nonsense": false, "ftp://x/y": false, "sqlite://": false, "mysql://x": false, "postgres://u@h:notaport/db": false,
	} {
		err := db.CheckURL(url)
		if (err == nil) != ok || (err != nil && !errors.Is(err, db.ErrBadURL)) {
			t.Errorf("CheckURL(%q) = %v", url, err)
		}
	}
}
