package apisync

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/db"
)

// QueryRows opens the database at dbURL (sqlite://, postgres://, mysql://),
// runs query and returns every row as column → value text (see
// [QueryRowsDB]). It is the query side of a repo job's repos_from. Errors
// never contain the URL's password.
func QueryRows(ctx context.Context, dbURL, query string, logger *slog.Logger) ([]map[string]string, error) {
	d, err := db.Open(ctx, dbURL, logger)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return QueryRowsDB(ctx, d, query)
}

// QueryRowsDB runs query on an open database, read-only (the SQLite reader
// handle, or a READ ONLY transaction), and returns every row as column →
// value text: NULL is "", numbers in decimal, booleans true/false, times in
// RFC 3339 (UTC). Two result columns with the same name are an error.
func QueryRowsDB(ctx context.Context, d *db.DB, query string) ([]map[string]string, error) {
	if strings.TrimSpace(query) == "" {
		return nil, fmt.Errorf("repos_from query: empty")
	}
	var rows *sql.Rows
	var err error
	if d.Dialect() == db.SQLite {
		rows, err = d.R.QueryContext(ctx, query)
	} else {
		tx, terr := d.R.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if terr != nil {
			return nil, fmt.Errorf("repos_from query on %s: %w", d, terr)
		}
		defer tx.Rollback()
		rows, err = tx.QueryContext(ctx, query)
	}
	if err != nil {
		return nil, fmt.Errorf("repos_from query on %s: %w", d, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("repos_from query: %w", err)
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c] {
			return nil, fmt.Errorf("repos_from query: two result columns are named %q; give them distinct aliases", c)
		}
		seen[c] = true
	}
	var out []map[string]string
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("repos_from query: row %d: %w", len(out)+1, err)
		}
		m := make(map[string]string, len(cols))
		for i, c := range cols {
			m[c] = textOf(vals[i])
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repos_from query: %w", err)
	}
	return out, nil
}

func textOf(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(x)
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// TemplateColumns lists the {column} placeholders of a source/dest template,
// in order of first use, so that a configuration can be checked before the
// query runs.
func TemplateColumns(tmpl string) []string {
	var out []string
	seen := map[string]bool{}
	forEachPlaceholder(tmpl, func(_, _ int, name string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	})
	return out
}

// Expand replaces each {column} in tmpl (a column is letters, digits and _,
// not starting with a digit) with the row's value. Other braces are kept. A
// column the row does not have, or whose value is empty (NULL), is an error
// naming it and the row's columns.
func Expand(tmpl string, row map[string]string) (string, error) {
	var b strings.Builder
	last := 0
	var err error
	forEachPlaceholder(tmpl, func(start, end int, name string) {
		if err != nil {
			return
		}
		v, ok := row[name]
		switch {
		case !ok:
			err = fmt.Errorf("template %q: no column %q in the query's result (columns: %s)", tmpl, name, strings.Join(sortedKeys(row), ", "))
			return
		case v == "":
			err = fmt.Errorf("template %q: column %q is empty (NULL) in this row", tmpl, name)
			return
		}
		b.WriteString(tmpl[last:start])
		b.WriteString(v)
		last = end
	})
	if err != nil {
		return "", err
	}
	b.WriteString(tmpl[last:])
	return b.String(), nil
}

// forEachPlaceholder calls fn for each {identifier} with its byte range.
func forEachPlaceholder(tmpl string, fn func(start, end int, name string)) {
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] != '{' {
			continue
		}
		j := i + 1
		for j < len(tmpl) && isIdentByte(tmpl[j], j == i+1) {
			j++
		}
		if j > i+1 && j < len(tmpl) && tmpl[j] == '}' {
			fn(i, j+1, tmpl[i+1:j])
			i = j
		}
	}
}

func isIdentByte(c byte, first bool) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || (!first && '0' <= c && c <= '9')
}
