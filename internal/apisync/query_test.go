package apisync_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/apisync"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
)

func TestQueryRowsAndExpand(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for _, s := range []string{
			"CREATE TABLE assessment (id VARCHAR(20) PRIMARY KEY, template_repo TEXT, latest_release TEXT, n INTEGER)",
			"INSERT INTO assessment VALUES ('r1', 'tmpl-a', 'v1.0', 1), ('r2', 'tmpl-b', 'v2.1', 2), ('r3', 'tmpl-c', NULL, 3)",
		} {
			if _, err := d.Exec(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := apisync.QueryRowsDB(ctx, d, "select template_repo as repo, latest_release as ref, n from assessment where latest_release is not null order by id")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0]["repo"] != "tmpl-a" || rows[1]["ref"] != "v2.1" || rows[1]["n"] != "2" {
			t.Fatalf("rows = %v", rows)
		}
		src, err := apisync.Expand("github:brn-org/{repo}@release:{ref}", rows[0])
		if err != nil || src != "github:brn-org/tmpl-a@release:v1.0" {
			t.Fatalf("Expand = %q, %v", src, err)
		}
		// A read-only query: writes are refused.
		if _, err := apisync.QueryRowsDB(ctx, d, "DELETE FROM assessment"); err == nil {
			t.Fatal("a DELETE ran through repos_from")
		}
		if n := countRows(t, d, "assessment"); n != 3 {
			t.Fatalf("rows = %d after a refused DELETE", n)
		}
	})
}

func TestQueryRowsURL(t *testing.T) {
	u := dbtest.SQLiteURL(t)
	d, err := db.Open(context.Background(), u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(context.Background(), "CREATE TABLE x (a TEXT, b INTEGER)"); err != nil {
		t.Fatal(err)
	}
	d.Exec(context.Background(), "INSERT INTO x VALUES ('p', NULL)")
	d.Close()
	rows, err := apisync.QueryRows(context.Background(), u, "SELECT a, b FROM x", nil)
	if err != nil || len(rows) != 1 || rows[0]["a"] != "p" || rows[0]["b"] != "" {
		t.Fatalf("rows = %v, %v", rows, err)
	}
	if _, err := apisync.QueryRows(context.Background(), u, "SELECT a, b AS a FROM x", nil); err == nil || !strings.Contains(err.Error(), `named "a"`) {
		t.Fatalf("duplicate columns: %v", err)
	}
	if _, err := apisync.QueryRows(context.Background(), "postgres://u:hunter2@127.0.0.1:1/x?connect_timeout=1", "SELECT 1", nil); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v; want a failure without the password", err)
	}
}

func TestExpandErrors(t *testing.T) {
	row := map[string]string{"repo": "a", "ref": ""}
	for tmpl, want := range map[string]string{
		"github:o/{repo}@release:{tag}": `no column "tag" in the query's result (columns: ref, repo)`,
		"github:o/{repo}@release:{ref}": `column "ref" is empty (NULL)`,
	} {
		_, err := apisync.Expand(tmpl, row)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Expand(%q) = %v; want %q", tmpl, err, want)
		}
	}
	if got, err := apisync.Expand("s3://b/{ x}/{}/{repo}{repo}/{{repo}}", row); err != nil || got != "s3://b/{ x}/{}/aa/{a}" {
		t.Fatalf("Expand = %q, %v", got, err)
	}
	if got := apisync.TemplateColumns("github:o/{repo}@release:{ref}/{repo}"); strings.Join(got, ",") != "repo,ref" {
		t.Fatalf("TemplateColumns = %v", got)
	}
}
