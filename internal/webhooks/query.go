package webhooks

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/db"
)

// MaxLimit caps the page size of the read queries; DefaultLimit is used when a
// query asks for 0.
const (
	MaxLimit     = 1000
	DefaultLimit = 100
)

// ErrInvalidQuery marks a read query with a bad parameter (unknown table,
// malformed cursor or time); HTTP handlers answer 400.
var ErrInvalidQuery = errors.New("invalid query")

// DeliveryQuery selects deliveries, newest first.
type DeliveryQuery struct {
	Event  string    // only this event, when set
	Since  time.Time // only deliveries received at or after, when non-zero
	Limit  int       // page size; 0 means DefaultLimit, capped at MaxLimit
	Cursor string    // NextCursor of the previous page, or "" for the first
}

// DeliveryInfo is a stored delivery without its payload.
type DeliveryInfo struct {
	ID             int64  `json:"id"`
	DeliveryID     string `json:"delivery_id"`
	Event          string `json:"event"`
	Action         string `json:"action,omitempty"`
	HookID         int64  `json:"hook_id,omitempty"`
	InstallationID int64  `json:"installation_id,omitempty"`
	Repo           string `json:"repo,omitempty"`
	ReceivedAt     string `json:"received_at"`
	ProcessedAt    string `json:"processed_at,omitempty"`
	Attempts       int    `json:"attempts"`
	LastError      string `json:"last_error,omitempty"`
	ArchivedAt     string `json:"archived_at,omitempty"`
	// Headers are the request's headers; absent once the payload was
	// pruned from SQL (archived and processed; see Prune).
	Headers map[string]string `json:"headers,omitempty"`
}

// DeliveryPage is one page of deliveries; NextCursor is "" on the last page.
type DeliveryPage struct {
	Deliveries []DeliveryInfo `json:"deliveries"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

// QueryDeliveries lists stored deliveries, newest first, with their
// processing state. Errors from bad parameters wrap ErrInvalidQuery.
func QueryDeliveries(ctx context.Context, d *db.DB, q DeliveryQuery) (*DeliveryPage, error) {
	limit := clampLimit(q.Limit)
	where := []string{"1 = 1"}
	var args []any
	if q.Event != "" {
		where = append(where, "d.event = ?")
		args = append(args, q.Event)
	}
	if !q.Since.IsZero() {
		where = append(where, "d.received_at >= ?")
		args = append(args, db.FormatTime(q.Since))
	}
	if q.Cursor != "" {
		id, err := strconv.ParseInt(q.Cursor, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("%w: bad cursor", ErrInvalidQuery)
		}
		where = append(where, "d.id < ?")
		args = append(args, id)
	}
	args = append(args, limit+1)
	rows, err := d.Query(ctx, `SELECT d.id, d.delivery_id, d.event, d.action, d.hook_id, d.installation_id, d.repo, d.received_at,
 d.processed_at, d.attempts, d.last_error, d.archived_at, p.headers
 FROM deliveries d LEFT JOIN delivery_payloads p ON p.delivery_pk = d.id WHERE `+strings.Join(where, " AND ")+
		` ORDER BY d.id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("query deliveries: %w", err)
	}
	defer rows.Close()
	page := &DeliveryPage{Deliveries: []DeliveryInfo{}}
	for rows.Next() {
		var di DeliveryInfo
		var action, repo, processed, lastErr, archived *string
		var hook, inst *int64
		var headers []byte
		if err := rows.Scan(&di.ID, &di.DeliveryID, &di.Event, &action, &hook, &inst, &repo, &di.ReceivedAt,
			&processed, &di.Attempts, &lastErr, &archived, &headers); err != nil {
			return nil, fmt.Errorf("query deliveries: scan: %w", err)
		}
		di.Action, di.Repo, di.ProcessedAt, di.LastError, di.ArchivedAt = deref(action), deref(repo), deref(processed), deref(lastErr), deref(archived)
		if hook != nil {
			di.HookID = *hook
		}
		if inst != nil {
			di.InstallationID = *inst
		}
		if headers != nil {
			_ = json.Unmarshal(headers, &di.Headers)
		}
		page.Deliveries = append(page.Deliveries, di)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query deliveries: %w", err)
	}
	if len(page.Deliveries) > limit {
		page.Deliveries = page.Deliveries[:limit]
		page.NextCursor = strconv.FormatInt(page.Deliveries[limit-1].ID, 10)
	}
	return page, nil
}

// EventQuery selects rows of one projection table, most recently updated first.
type EventQuery struct {
	Repo   string // OWNER/REPO, when set
	Status string // status column (state for issues/PRs, action for label events and comments)
	// Classification, for workflow_job only: rows whose log classification
	// matched this rule name ("none": classified, nothing matched).
	Classification string
	Since          time.Time // only rows updated at or after, when non-zero
	Limit          int       // page size; 0 means DefaultLimit, capped at MaxLimit
	Cursor         string    // NextCursor of the previous page, or "" for the first
}

// EventRow is one row of a projection table.
type EventRow struct {
	Key        string          `json:"key"`
	Repo       string          `json:"repo"`
	Number     int64           `json:"number,omitempty"`
	Action     string          `json:"action,omitempty"`
	Status     string          `json:"status,omitempty"`
	Conclusion string          `json:"conclusion,omitempty"`
	Name       string          `json:"name,omitempty"`
	HeadSHA    string          `json:"head_sha,omitempty"`
	UpdatedAt  string          `json:"updated_at"`
	DeliveryID string          `json:"delivery_id"`
	ReceivedAt string          `json:"received_at"`
	Revision   int             `json:"revision"`
	Object     json.RawMessage `json:"object"`
	// Classification is the job log's classification (workflow_job only):
	// {rule, line, line_num, captures, context}, JSON null when no rule
	// matched, absent when the log was not classified.
	Classification json.RawMessage `json:"classification,omitempty"`
}

// EventPage is one page of projection rows; NextCursor is "" on the last page.
type EventPage struct {
	Table      string     `json:"table"`
	Rows       []EventRow `json:"rows"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// QueryEvents lists rows of the projection table (one of [Tables]), most
// recently updated first. Errors from bad parameters (including an unknown
// table) wrap ErrInvalidQuery.
func QueryEvents(ctx context.Context, d *db.DB, table string, q EventQuery) (*EventPage, error) {
	if !IsTable(table) {
		return nil, fmt.Errorf("%w: unknown table %q (known: %s)", ErrInvalidQuery, table, strings.Join(Tables, ", "))
	}
	limit := clampLimit(q.Limit)
	where := []string{"1 = 1"}
	var args []any
	if q.Repo != "" {
		where = append(where, "repo = ?")
		args = append(args, q.Repo)
	}
	if q.Status != "" {
		where = append(where, "status = ?")
		args = append(args, q.Status)
	}
	if q.Classification != "" {
		if table != "workflow_job" {
			return nil, fmt.Errorf("%w: classification filters workflow_job only", ErrInvalidQuery)
		}
		if q.Classification == "none" {
			where = append(where, "classification IS NOT NULL AND classification_rule IS NULL")
		} else {
			where = append(where, "classification_rule = ?")
			args = append(args, q.Classification)
		}
	}
	if !q.Since.IsZero() {
		where = append(where, "updated_at >= ?")
		args = append(args, db.FormatTime(q.Since))
	}
	if q.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		upd, key, ok := strings.Cut(string(raw), "\x00")
		if err != nil || !ok {
			return nil, fmt.Errorf("%w: bad cursor", ErrInvalidQuery)
		}
		where = append(where, "(updated_at < ? OR (updated_at = ? AND key < ?))")
		args = append(args, upd, upd, key)
	}
	args = append(args, limit+1)
	classCol := "NULL"
	if table == "workflow_job" {
		classCol = "classification"
	}
	rows, err := d.Query(ctx, `SELECT key, repo, number, action, status, conclusion, name, head_sha, updated_at,
 delivery_id, received_at, revision, object, `+classCol+` FROM `+table+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY updated_at DESC, key DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", table, err)
	}
	defer rows.Close()
	page := &EventPage{Table: table, Rows: []EventRow{}}
	for rows.Next() {
		var e EventRow
		var num *int64
		var action, status, concl, name, sha *string
		var obj, class []byte
		if err := rows.Scan(&e.Key, &e.Repo, &num, &action, &status, &concl, &name, &sha, &e.UpdatedAt,
			&e.DeliveryID, &e.ReceivedAt, &e.Revision, &obj, &class); err != nil {
			return nil, fmt.Errorf("query %s: scan: %w", table, err)
		}
		if num != nil {
			e.Number = *num
		}
		e.Action, e.Status, e.Conclusion, e.Name, e.HeadSHA = deref(action), deref(status), deref(concl), deref(name), deref(sha)
		e.Object = json.RawMessage(obj)
		if class != nil {
			e.Classification = json.RawMessage(class)
		}
		page.Rows = append(page.Rows, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query %s: %w", table, err)
	}
	if len(page.Rows) > limit {
		page.Rows = page.Rows[:limit]
		last := page.Rows[limit-1]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(last.UpdatedAt + "\x00" + last.Key))
	}
	return page, nil
}

func clampLimit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return min(n, MaxLimit)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// DynamoOnlyError says that a projection table is not kept in SQL because
// projections are written only to DynamoDB (webhooks.dynamodb.
// sql_projections: false), and names the DynamoDB table that holds it.
type DynamoOnlyError struct {
	Table       string // projection table (workflow_job, …)
	DynamoTable string // its DynamoDB table (torchci-workflow-job, …)
}

func (e *DynamoOnlyError) Error() string {
	return fmt.Sprintf("projections are written only to DynamoDB (webhooks.dynamodb.sql_projections: false): %s is in DynamoDB table %s; the SQL table %s is not kept",
		e.Table, e.DynamoTable, e.Table)
}
