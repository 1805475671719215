package apisync

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ghsync/ghsync/internal/db"
)

// maxArgs bounds the placeholders in one statement (SQLite allows 32766).
const maxArgs = 30000

// tableSync writes the pages of one listing into one table.
type tableSync struct {
	d             *db.DB
	table, key    string
	fixed         []string           // the mapping's columns, or nil for "every field"
	types         map[string]colKind // columns whose type is fixed
	requireTable  bool
	deleteMissing bool
	dryRun        bool
	logger        *slog.Logger
	sum           *Summary
	counts        *TableCounts

	sch        *schema
	virtual    bool                // dry run: the table "exists" only in memory
	classified map[string]struct{} // keys already counted (a restart does not count twice)
	seen       map[string]struct{} // keys of the current listing
}

type tableSyncOpts struct {
	table, key    string
	fixed         []string
	types         map[string]colKind
	requireTable  bool
	deleteMissing bool
}

func newTableSync(ctx context.Context, d *db.DB, o tableSyncOpts, dryRun bool, logger *slog.Logger, sum *Summary) (*tableSync, error) {
	sch, err := loadSchema(ctx, d, o.table)
	if err != nil {
		return nil, err
	}
	if !sch.exists && o.requireTable {
		return nil, fmt.Errorf("table %s does not exist in %s (require_table is set)", o.table, d)
	}
	if sch.exists {
		if ok, err := sch.has(o.key); err != nil {
			return nil, err
		} else if !ok {
			return nil, fmt.Errorf("table %s has no key column %q", o.table, o.key)
		}
	}
	c := &TableCounts{}
	sum.Tables[o.table] = c
	return &tableSync{
		d: d, table: o.table, key: o.key, fixed: o.fixed, types: o.types,
		requireTable: o.requireTable, deleteMissing: o.deleteMissing, dryRun: dryRun,
		logger: logger, sum: sum, counts: c, sch: sch,
		classified: map[string]struct{}{}, seen: map[string]struct{}{},
	}, nil
}

// restart forgets the keys listed so far: the listing starts again.
func (ts *tableSync) restart() { ts.seen = map[string]struct{}{} }

// ensureColumns creates the table or adds the columns this page brings.
func (ts *tableSync) ensureColumns(ctx context.Context, rows []row) error {
	var newCols []string
	kinds := map[string]colKind{}
	consider := func(col string, v any) error {
		if _, done := kinds[col]; done {
			if kinds[col] == "" && v != nil {
				kinds[col] = kindOf(v)
			}
			return nil
		}
		has, err := ts.sch.has(col)
		if err != nil {
			return err
		}
		if has {
			return nil
		}
		for _, c := range newCols {
			if strings.EqualFold(c, col) {
				return fmt.Errorf("table %s: columns %q and %q differ only in case; map one of them to another name", ts.table, c, col)
			}
		}
		newCols = append(newCols, col)
		switch {
		case ts.types[col] != "":
			kinds[col] = ts.types[col]
		case v != nil:
			kinds[col] = kindOf(v)
		default:
			kinds[col] = "" // decided by a later non-empty value, else text
		}
		return nil
	}
	if err := consider(ts.key, nil); err != nil {
		return err
	}
	for _, c := range ts.fixed {
		if err := consider(c, nil); err != nil {
			return err
		}
	}
	for _, r := range rows {
		for _, c := range sortedKeys(r.Values) {
			if err := consider(c, r.Values[c]); err != nil {
				return err
			}
		}
	}
	for c, k := range kinds {
		if k == "" {
			kinds[c] = kindText
		}
	}
	if !ts.sch.exists && !ts.virtual {
		ts.counts.Created = true
		if !ts.dryRun {
			if err := ts.write(ctx, ts.sch.createSQL(ts.key, newCols, kinds)); err != nil {
				return fmt.Errorf("create table %s: %w", ts.table, err)
			}
			ts.sch.exists = true
			ts.logger.Info("created table", "table", ts.table, "columns", len(newCols)+1)
		} else {
			ts.virtual = true
		}
		for _, c := range newCols {
			ts.sch.add(c, kinds[c])
		}
		ts.sch.add(hashColumn, kindText)
		return nil
	}
	if ok, _ := ts.sch.has(hashColumn); !ok {
		newCols = append(newCols, hashColumn)
		kinds[hashColumn] = kindText
	}
	for _, c := range newCols {
		if !ts.dryRun {
			if err := ts.write(ctx, ts.sch.addColumnSQL(c, kinds[c])); err != nil {
				return fmt.Errorf("table %s: add column %q: %w", ts.table, c, err)
			}
			ts.logger.Info("added column", "table", ts.table, "column", c, "type", string(kinds[c]))
		}
		ts.sch.add(c, kinds[c])
		if c != hashColumn {
			ts.counts.AddedColumns = append(ts.counts.AddedColumns, c)
		}
	}
	return nil
}

func (ts *tableSync) write(ctx context.Context, q string, args ...any) error {
	ts.sum.Statements++
	_, err := ts.d.Exec(ctx, q, args...)
	return err
}

// managed is the list of columns an upsert sets besides key and hash: the
// mapping's columns, or (mapping "every field") every column of the table.
func (ts *tableSync) managed() []string {
	var cols []string
	src := ts.fixed
	if src == nil {
		src = ts.sch.order
	}
	for _, c := range src {
		if c != ts.key && c != hashColumn {
			cols = append(cols, c)
		}
	}
	return cols
}

// page writes one page of rows: new columns first, then the rows whose hash
// changed, in one transaction.
func (ts *tableSync) page(ctx context.Context, rows []row) error {
	for _, r := range rows {
		if r.Key == "" {
			return fmt.Errorf("table %s: a record has no value for key column %q", ts.table, ts.key)
		}
		if _, dup := ts.seen[r.Key]; dup {
			return fmt.Errorf("table %s: key %q listed twice (key column %q must be unique upstream)", ts.table, r.Key, ts.key)
		}
		ts.seen[r.Key] = struct{}{}
	}
	if err := ts.ensureColumns(ctx, rows); err != nil {
		return err
	}
	stored, err := ts.storedHashes(ctx, rows)
	if err != nil {
		return err
	}
	var changed []row
	var hashes []string
	for _, r := range rows {
		h := rowHash(r.Values)
		old, exists := stored[r.Key]
		_, counted := ts.classified[r.Key]
		if !counted {
			ts.classified[r.Key] = struct{}{}
			ts.counts.Records++
		}
		if exists && old == h {
			if !counted {
				ts.counts.Unchanged++
			}
			continue
		}
		if !counted {
			if exists {
				ts.counts.Updated++
			} else {
				ts.counts.Inserted++
			}
		}
		changed = append(changed, r)
		hashes = append(hashes, h)
	}
	if len(changed) == 0 || ts.dryRun {
		return nil
	}
	return ts.upsert(ctx, changed, hashes)
}

// storedHashes returns key → stored hash for the page's keys that exist.
func (ts *tableSync) storedHashes(ctx context.Context, rows []row) (map[string]string, error) {
	out := map[string]string{}
	if ts.virtual || !ts.sch.exists || len(rows) == 0 {
		return out, nil
	}
	dl := ts.d.Dialect()
	var q querier = ts.d.R
	if dl == db.Postgres {
		// A prepared statement planned while the table was empty keeps its
		// generic plan (a sequential scan) as the table grows: a cold run
		// turned quadratic (30 ms per page at 10,000 rows). Plan each
		// execution with its parameters instead.
		tx, err := ts.d.R.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, fmt.Errorf("table %s: read stored hashes: %w", ts.table, err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "SET LOCAL plan_cache_mode = force_custom_plan"); err != nil {
			return nil, fmt.Errorf("table %s: read stored hashes: %w", ts.table, err)
		}
		q = tx
	}
	for start := 0; start < len(rows); start += 500 {
		end := min(start+500, len(rows))
		args := make([]any, 0, end-start)
		for _, r := range rows[start:end] {
			args = append(args, r.Key)
		}
		stmt := fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s IN (%s)", quote(dl, ts.key), quote(dl, hashColumn),
			quote(dl, ts.table), quote(dl, ts.key), placeholders(len(args)))
		res, err := q.QueryContext(ctx, ts.d.Rebind(stmt), args...)
		if err != nil {
			return nil, fmt.Errorf("table %s: read stored hashes: %w", ts.table, err)
		}
		for res.Next() {
			var k string
			var h *string
			if err := res.Scan(&k, &h); err != nil {
				res.Close()
				return nil, fmt.Errorf("table %s: read stored hashes: %w", ts.table, err)
			}
			if h != nil {
				out[k] = *h
			} else {
				out[k] = ""
			}
		}
		res.Close()
		if err := res.Err(); err != nil {
			return nil, fmt.Errorf("table %s: read stored hashes: %w", ts.table, err)
		}
	}
	return out, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
