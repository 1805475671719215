package apisync

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// SyncAirtable copies one Airtable table into cfg.Target: every page of the
// listing (pageSize, offset) is written in one transaction; a listing whose
// offset expires is restarted from the first page; with DeleteMissing the rows
// not listed are deleted after the listing completed. The summary is returned
// with the error too (counts of the pages written before a failure).
func SyncAirtable(ctx context.Context, deps Deps, cfg AirtableConfig, opts RunOptions) (*Summary, error) {
	sum := newSummary("airtable", opts.DryRun)
	if errs := cfg.Validate(); len(errs) > 0 {
		return sum, fmt.Errorf("airtable job: %w", joinFieldErrors(errs))
	}
	deps, err := deps.withDefaults()
	if err != nil {
		return sum, err
	}
	start := deps.Now()
	defer sum.finish(start, deps.Now)
	key := cfg.Key
	if key == "" {
		key = "id"
	}
	var fixed, fields []string
	if len(cfg.Fields) > 0 {
		fixed = []string{"id", "created_time"}
		for _, f := range sortedKeys(cfg.Fields) {
			fields = append(fields, f)
			fixed = append(fixed, cfg.Fields[f])
		}
	}
	types := map[string]colKind{}
	for c, t := range cfg.Types {
		types[c] = colKind(t)
	}
	ts, err := newTableSync(ctx, deps.DB, tableSyncOpts{
		table: cfg.Target, key: key, fixed: fixed, types: types,
		requireTable: cfg.RequireTable, deleteMissing: cfg.DeleteMissing,
	}, opts.DryRun, deps.Logger, sum)
	if err != nil {
		return sum, fmt.Errorf("airtable %s/%s → %s: %w", cfg.Base, cfg.Table, cfg.Target, err)
	}
	client := newAirtableClient(deps, cfg, sum)
	deps.Logger.Info("airtable sync", "base", cfg.Base, "table", cfg.Table, "target", cfg.Target, "dry_run", opts.DryRun)
	offset := ""
	for {
		page, err := client.listPage(ctx, offset, fields)
		if errors.Is(err, errIteratorExpired) {
			if sum.Restarts >= maxRestarts {
				return sum, fmt.Errorf("airtable %s/%s: the listing's offset expired %d times; giving up (nothing deleted)", cfg.Base, cfg.Table, sum.Restarts+1)
			}
			sum.Restarts++
			deps.Logger.Warn("airtable listing offset expired; restarting from the first page", "base", cfg.Base, "table", cfg.Table)
			ts.restart()
			offset = ""
			continue
		}
		if err != nil {
			return sum, fmt.Errorf("%w (listing incomplete: nothing deleted)", err)
		}
		sum.Pages++
		rows, err := airtableRows(page.Records, cfg, key)
		if err != nil {
			return sum, fmt.Errorf("airtable %s/%s: %w", cfg.Base, cfg.Table, err)
		}
		if err := ts.page(ctx, rows); err != nil {
			return sum, err
		}
		deps.Logger.Debug("airtable page written", "table", cfg.Target, "records", len(rows), "page", sum.Pages)
		if page.Offset == "" {
			break
		}
		offset = page.Offset
	}
	if err := ts.finish(ctx); err != nil {
		return sum, err
	}
	c := sum.Tables[cfg.Target]
	deps.Logger.Info("airtable sync done", "target", cfg.Target, "inserted", c.Inserted, "updated", c.Updated,
		"unchanged", c.Unchanged, "deleted", c.Deleted, "pages", sum.Pages, "rate_limited", sum.RateLimited)
	return sum, nil
}

// airtableRows converts records into rows: id, created_time and the mapped
// fields (all of them when the mapping is empty). A field absent from a record
// is empty (Airtable omits "", [] and false).
func airtableRows(recs []airtableRecord, cfg AirtableConfig, key string) ([]row, error) {
	rows := make([]row, 0, len(recs))
	for _, r := range recs {
		vals := make(map[string]any, len(r.Fields)+2)
		vals["id"] = nilIfEmpty(r.ID)
		vals["created_time"] = nilIfEmpty(r.CreatedTime)
		for f, raw := range r.Fields {
			col := f
			if len(cfg.Fields) > 0 {
				c, ok := cfg.Fields[f]
				if !ok {
					continue // not mapped (Airtable sends only fields[] asked, but be safe)
				}
				col = c
			} else {
				if strings.EqualFold(f, "id") || strings.EqualFold(f, "created_time") || strings.EqualFold(f, hashColumn) {
					return nil, fmt.Errorf("record %s: field %q clashes with a built-in column; map the fields explicitly (fields: {%q: another_name})", r.ID, f, f)
				}
				if msg := checkColumnName(f); msg != "" {
					return nil, fmt.Errorf("record %s: field %q: %s", r.ID, f, msg)
				}
			}
			v, err := decodeJSON(raw)
			if err != nil {
				return nil, fmt.Errorf("record %s: field %q: %w", r.ID, f, err)
			}
			nv, err := normalize(v, cfg.Lists)
			if err != nil {
				return nil, fmt.Errorf("record %s: field %q: %w", r.ID, f, err)
			}
			vals[col] = nv
		}
		k, err := keyString(vals[key])
		if err != nil {
			return nil, fmt.Errorf("record %s: key column %q: %w", r.ID, key, err)
		}
		rows = append(rows, row{Key: k, Values: vals})
	}
	return rows, nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func keyString(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", errors.New("empty (every record needs a key)")
	case string:
		return x, nil
	case fmt.Stringer:
		return x.String(), nil
	}
	return "", fmt.Errorf("a %T cannot be a key", v)
}

func joinFieldErrors(errs []FieldError) error {
	es := make([]error, len(errs))
	for i, e := range errs {
		es[i] = e
	}
	return errors.Join(es...)
}
