package apisync

import "time"

// Summary is the outcome of one run, JSON-encodable for --json and the run
// history. Counts are exact: a record is counted once even if a listing was
// restarted.
type Summary struct {
	Kind   string `json:"kind"` // "airtable" or "badgr"
	DryRun bool   `json:"dry_run,omitempty"`
	// Tables holds the counts per target table, by table name.
	Tables map[string]*TableCounts `json:"tables"`
	// Pages is the number of list pages fetched (including pages fetched again
	// after a restart).
	Pages int `json:"pages"`
	// Requests is every HTTP request sent, token requests included.
	Requests int `json:"requests"`
	// RateLimited counts 429 answers that were waited out.
	RateLimited int `json:"rate_limited"`
	// Restarts counts listings restarted from the first page (Airtable's
	// LIST_RECORDS_ITERATOR_NOT_AVAILABLE).
	Restarts int `json:"restarts,omitempty"`
	// TokenRequests counts OAuth token grants (Badgr: password and refresh).
	TokenRequests int `json:"token_requests,omitempty"`
	// Statements counts SQL statements that write (DDL, upserts, deletes); a
	// steady-state run has 0.
	Statements int   `json:"statements"`
	DurationMS int64 `json:"duration_ms"`
}

// TableCounts are one target table's row counts.
type TableCounts struct {
	// Records is the number of upstream records listed into this table.
	Records   int `json:"records"`
	Inserted  int `json:"inserted"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Deleted   int `json:"deleted"`
	// Created is true when the run created the table (or would, in a dry run).
	Created bool `json:"created,omitempty"`
	// AddedColumns lists columns the run added (or would add) for new fields.
	AddedColumns []string `json:"added_columns,omitempty"`
}

// Written is the number of rows the run wrote (or would write) in the table.
func (c *TableCounts) Written() int { return c.Inserted + c.Updated + c.Deleted }

func newSummary(kind string, dryRun bool) *Summary {
	return &Summary{Kind: kind, DryRun: dryRun, Tables: map[string]*TableCounts{}}
}

func (s *Summary) finish(start time.Time, now func() time.Time) {
	s.DurationMS = now().Sub(start).Milliseconds()
}
