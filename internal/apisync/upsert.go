package apisync

import (
	"context"
	"fmt"
	"strings"

	"github.com/ghsync/ghsync/internal/db"
)

// upsert writes rows (with their new hashes) in one transaction, as multi-row
// native upserts.
func (ts *tableSync) upsert(ctx context.Context, rows []row, hashes []string) error {
	dl := ts.d.Dialect()
	cols := append([]string{ts.key}, ts.managed()...)
	cols = append(cols, hashColumn)
	per := max(1, min(500, maxArgs/len(cols)))
	tx, err := ts.d.Begin(ctx)
	if err != nil {
		return fmt.Errorf("table %s: %w", ts.table, err)
	}
	defer tx.Rollback()
	for start := 0; start < len(rows); start += per {
		end := min(start+per, len(rows))
		args := make([]any, 0, (end-start)*len(cols))
		for i := start; i < end; i++ {
			r := rows[i]
			for _, c := range cols {
				switch c {
				case ts.key:
					args = append(args, r.Key)
				case hashColumn:
					args = append(args, hashes[i])
				default:
					a, err := sqlArg(ts.sch.cols[c], r.Values[c])
					if err != nil {
						return fmt.Errorf("table %s, key %q, column %q: %w", ts.table, r.Key, c, err)
					}
					args = append(args, a)
				}
			}
		}
		ts.sum.Statements++
		if _, err := tx.Exec(ctx, upsertSQL(dl, ts.table, ts.key, cols, end-start), args...); err != nil {
			return fmt.Errorf("table %s: upsert %d rows: %w", ts.table, end-start, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("table %s: commit: %w", ts.table, err)
	}
	return nil
}

// upsertSQL is INSERT … ON CONFLICT (key) DO UPDATE (SQLite, PostgreSQL) or
// INSERT … ON DUPLICATE KEY UPDATE (MySQL) for n rows.
func upsertSQL(dl db.Dialect, table, key string, cols []string, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(quote(dl, table))
	b.WriteString(" (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(dl, c))
	}
	b.WriteString(") VALUES ")
	tuple := "(" + placeholders(len(cols)) + ")"
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(tuple)
	}
	if dl == db.MySQL {
		b.WriteString(" ON DUPLICATE KEY UPDATE ")
	} else {
		fmt.Fprintf(&b, " ON CONFLICT (%s) DO UPDATE SET ", quote(dl, key))
	}
	first := true
	for _, c := range cols {
		if c == key {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		q := quote(dl, c)
		if dl == db.MySQL {
			b.WriteString(q + " = VALUES(" + q + ")")
		} else {
			b.WriteString(q + " = excluded." + q)
		}
	}
	return b.String()
}

// finish ends a complete listing: with delete_missing, rows whose key was not
// listed are deleted (in one transaction). Call it only after the last page.
func (ts *tableSync) finish(ctx context.Context) error {
	if !ts.deleteMissing || ts.virtual || !ts.sch.exists {
		return nil
	}
	dl := ts.d.Dialect()
	res, err := ts.d.Query(ctx, fmt.Sprintf("SELECT %s FROM %s", quote(dl, ts.key), quote(dl, ts.table)))
	if err != nil {
		return fmt.Errorf("table %s: list keys: %w", ts.table, err)
	}
	var missing []any
	for res.Next() {
		var k string
		if err := res.Scan(&k); err != nil {
			res.Close()
			return fmt.Errorf("table %s: list keys: %w", ts.table, err)
		}
		if _, ok := ts.seen[k]; !ok {
			missing = append(missing, k)
		}
	}
	res.Close()
	if err := res.Err(); err != nil {
		return fmt.Errorf("table %s: list keys: %w", ts.table, err)
	}
	if len(missing) == 0 {
		return nil
	}
	if ts.dryRun {
		ts.counts.Deleted = len(missing)
		return nil
	}
	tx, err := ts.d.Begin(ctx)
	if err != nil {
		return fmt.Errorf("table %s: %w", ts.table, err)
	}
	defer tx.Rollback()
	deleted := 0
	for start := 0; start < len(missing); start += 500 {
		end := min(start+500, len(missing))
		ts.sum.Statements++
		r, err := tx.Exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s IN (%s)", quote(dl, ts.table), quote(dl, ts.key), placeholders(end-start)), missing[start:end]...)
		if err != nil {
			return fmt.Errorf("table %s: delete missing rows: %w", ts.table, err)
		}
		n, _ := r.RowsAffected()
		deleted += int(n)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("table %s: commit deletes: %w", ts.table, err)
	}
	ts.counts.Deleted = deleted
	ts.logger.Info("deleted rows missing upstream", "table", ts.table, "rows", deleted)
	return nil
}
