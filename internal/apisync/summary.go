package apisync

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

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

// Changes is the number of rows the run inserted, updated or deleted (or
// would, in a dry run) across its tables: 0 means nothing changed.
func (s *Summary) Changes() int {
	n := 0
	for _, c := range s.Tables {
		n += c.Written()
	}
	return n
}

// Text is a one-line human summary, e.g. "assessment: 5 inserted, 10 updated,
// 2485 unchanged, 5 deleted; 25 pages, 26 requests, 1 rate-limited, 31.4s".
func (s *Summary) Text() string {
	var b strings.Builder
	if s.DryRun {
		b.WriteString("dry run: ")
	}
	names := make([]string, 0, len(s.Tables))
	for n := range s.Tables {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		c := s.Tables[n]
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %d inserted, %d updated, %d unchanged, %d deleted", n, c.Inserted, c.Updated, c.Unchanged, c.Deleted)
		if c.Created {
			b.WriteString(" (table created)")
		}
		if len(c.AddedColumns) > 0 {
			fmt.Fprintf(&b, " (columns added: %s)", strings.Join(c.AddedColumns, ", "))
		}
	}
	fmt.Fprintf(&b, "; %d pages, %d requests", s.Pages, s.Requests)
	if s.RateLimited > 0 {
		fmt.Fprintf(&b, ", %d rate-limited", s.RateLimited)
	}
	if s.Restarts > 0 {
		fmt.Fprintf(&b, ", %d restarts", s.Restarts)
	}
	fmt.Fprintf(&b, ", %s", (time.Duration(s.DurationMS) * time.Millisecond).String())
	return b.String()
}

func newSummary(kind string, dryRun bool) *Summary {
	return &Summary{Kind: kind, DryRun: dryRun, Tables: map[string]*TableCounts{}}
}

func (s *Summary) finish(start time.Time, now func() time.Time) {
	s.DurationMS = now().Sub(start).Milliseconds()
}
