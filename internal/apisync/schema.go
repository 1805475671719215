package apisync

import (
	"context"
	"fmt"
	"strings"

	"github.com/ghsync/ghsync/internal/db"
)

// hashColumn holds each row's content hash (see rowHash).
const hashColumn = "_ghsync_hash"

type colKind string

const (
	kindText colKind = "text"
	kindInt  colKind = "integer"
	kindReal colKind = "real"
	kindBool colKind = "boolean"
	kindJSON colKind = "json"
)

// schema is what is known of a target table: its columns and their kinds.
type schema struct {
	d      *db.DB
	table  string
	exists bool
	cols   map[string]colKind // column → kind
	order  []string           // columns in table order
	lower  map[string]string  // lower-case column → column
}

// quote quotes an identifier for the dialect.
func quote(d db.Dialect, id string) string {
	if d == db.MySQL {
		return "`" + strings.ReplaceAll(id, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(id, `"`, `""`) + `"`
}

// sqlType is the column type for kind k; key columns need an indexable type
// (MySQL cannot key a TEXT column) and a case-sensitive one (Airtable and Badgr
// ids differ by case only).
func sqlType(d db.Dialect, k colKind, key bool) string {
	switch d {
	case db.MySQL:
		if key {
			return "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"
		}
		switch k {
		case kindInt:
			return "BIGINT"
		case kindReal:
			return "DOUBLE"
		case kindBool:
			return "BOOLEAN DEFAULT FALSE"
		case kindJSON:
			return "JSON"
		}
		return "LONGTEXT"
	case db.Postgres:
		if key {
			return "TEXT NOT NULL"
		}
		switch k {
		case kindInt:
			return "BIGINT"
		case kindReal:
			return "DOUBLE PRECISION"
		case kindBool:
			return "BOOLEAN DEFAULT FALSE"
		case kindJSON:
			return "JSONB"
		}
		return "TEXT"
	default:
		if key {
			return "TEXT NOT NULL"
		}
		switch k {
		case kindInt:
			return "INTEGER"
		case kindReal:
			return "REAL"
		case kindBool:
			return "BOOLEAN DEFAULT FALSE"
		}
		return "TEXT"
	}
}

// kindFromSQL maps a column's declared type back to a kind.
func kindFromSQL(typ string) colKind {
	t := strings.ToLower(typ)
	switch {
	case strings.Contains(t, "bool") || strings.HasPrefix(t, "tinyint(1)"):
		return kindBool
	case strings.Contains(t, "int"):
		return kindInt
	case strings.Contains(t, "real") || strings.Contains(t, "double") || strings.Contains(t, "float") ||
		strings.Contains(t, "numeric") || strings.Contains(t, "decimal"):
		return kindReal
	case strings.Contains(t, "json"):
		return kindJSON
	}
	return kindText
}

// loadSchema reads the target table's columns; exists is false when there is
// no such table.
func loadSchema(ctx context.Context, d *db.DB, table string) (*schema, error) {
	var q string
	switch d.Dialect() {
	case db.Postgres:
		q = "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position"
	case db.MySQL:
		q = "SELECT column_name, column_type FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position"
	default:
		q = "SELECT name, type FROM pragma_table_info(?) ORDER BY cid"
	}
	// The writer handle: on SQLite the reader pool may not yet see a table the
	// writer just created in another run of this process.
	rows, err := d.W.QueryContext(ctx, d.Rebind(q), table)
	if err != nil {
		return nil, fmt.Errorf("read columns of table %s: %w", table, err)
	}
	defer rows.Close()
	s := &schema{d: d, table: table, cols: map[string]colKind{}, lower: map[string]string{}}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("read columns of table %s: %w", table, err)
		}
		s.add(name, kindFromSQL(typ))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of table %s: %w", table, err)
	}
	s.exists = len(s.order) > 0
	return s, nil
}

func (s *schema) add(col string, k colKind) {
	s.cols[col] = k
	s.order = append(s.order, col)
	s.lower[strings.ToLower(col)] = col
}

// has reports whether col exists; a column differing only in case is an error
// (MySQL compares column names case-insensitively, so it cannot hold both).
func (s *schema) has(col string) (bool, error) {
	if _, ok := s.cols[col]; ok {
		return true, nil
	}
	if other, ok := s.lower[strings.ToLower(col)]; ok {
		return false, fmt.Errorf("table %s: column %q clashes with existing column %q (names differ only in case); map one of them to another name", s.table, col, other)
	}
	return false, nil
}

// createSQL is the CREATE TABLE statement for key + cols (+ the hash column).
func (s *schema) createSQL(key string, cols []string, kinds map[string]colKind) string {
	d := s.d.Dialect()
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (%s %s PRIMARY KEY", quote(d, s.table), quote(d, key), sqlType(d, kindText, true))
	for _, c := range cols {
		if c == key {
			continue
		}
		fmt.Fprintf(&b, ", %s %s", quote(d, c), sqlType(d, kinds[c], false))
	}
	fmt.Fprintf(&b, ", %s %s)", quote(d, hashColumn), hashType(d))
	if d == db.MySQL {
		b.WriteString(" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci")
	}
	return b.String()
}

func hashType(d db.Dialect) string {
	if d == db.MySQL {
		return "CHAR(64)"
	}
	return "TEXT"
}

func (s *schema) addColumnSQL(col string, k colKind) string {
	d := s.d.Dialect()
	typ := sqlType(d, k, false)
	if col == hashColumn {
		typ = hashType(d)
	}
	return fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", quote(d, s.table), quote(d, col), typ)
}
