package circleci

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/store"
)

// Event is the part of a CircleCI webhook payload ghsync reads
// (workflow-completed and job-completed events; other types are stored and
// archived but not projected).
type Event struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	HappenedAt string `json:"happened_at"`
	Project    struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Slug string `json:"slug"`
	} `json:"project"`
	Workflow *struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Status    string `json:"status"`
		CreatedAt string `json:"created_at"`
		StoppedAt string `json:"stopped_at"`
	} `json:"workflow"`
	Job *struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Number    int64  `json:"number"`
		Status    string `json:"status"`
		StartedAt string `json:"started_at"`
		StoppedAt string `json:"stopped_at"`
	} `json:"job"`
}

// ErrBadRequest marks a body that is not a CircleCI event.
var ErrBadRequest = errors.New("bad circleci webhook")

// Parse decodes a webhook body; it needs a JSON object with "id" and "type".
func Parse(body []byte) (*Event, error) {
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("%w: body is not a JSON object", ErrBadRequest)
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if ev.ID == "" || ev.Type == "" || len(ev.ID) > 200 || len(ev.Type) > 100 {
		return nil, fmt.Errorf("%w: payload needs \"id\" and \"type\"", ErrBadRequest)
	}
	return &ev, nil
}

// row returns the circleci_job row of ev, or ok=false when ev is not projected.
func (ev *Event) row() (key, project string, ok bool) {
	project = ev.Project.Slug
	if project == "" {
		project = ev.Project.Name
	}
	switch {
	case ev.Type == "job-completed" && ev.Job != nil && ev.Job.ID != "":
		return project + "/job/" + ev.Job.ID, project, project != ""
	case ev.Type == "workflow-completed" && ev.Workflow != nil && ev.Workflow.ID != "":
		return project + "/workflow/" + ev.Workflow.ID, project, project != ""
	}
	return "", "", false
}

func normTime(s, fallback string) string {
	if t, err := db.ParseTime(s); err == nil && s != "" {
		return db.FormatTime(t)
	}
	return fallback
}

// store commits the delivery and its projection in one transaction; dup
// reports an id already stored (nothing written).
func (s *Service) store(ctx context.Context, ev *Event, body []byte, at time.Time) (bool, error) {
	// A commit must not be abandoned because the client went away.
	ctx = context.WithoutCancel(ctx)
	tx, err := s.cfg.DB.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	recv := db.FormatTime(at)
	happened := normTime(ev.HappenedAt, recv)
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO circleci_deliveries (delivery_id, type, received_at, happened_at, payload)
 VALUES (?, ?, ?, ?, ?) ON CONFLICT (delivery_id) DO NOTHING RETURNING id`, ev.ID, ev.Type, recv, happened, body).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("store circleci delivery %s: %w", ev.ID, err)
	}
	if key, project, ok := ev.row(); ok {
		var wfID, wfName, jobID, jobName, status, started, stopped any
		var jobNum any
		if w := ev.Workflow; w != nil {
			wfID, wfName, status = nz(w.ID), nz(w.Name), nz(w.Status)
			started, stopped = nz(normTime(w.CreatedAt, "")), nz(normTime(w.StoppedAt, ""))
		}
		if j := ev.Job; j != nil && ev.Type == "job-completed" {
			jobID, jobName, status = nz(j.ID), nz(j.Name), nz(j.Status)
			started, stopped = nz(normTime(j.StartedAt, "")), nz(normTime(j.StoppedAt, ""))
			if j.Number != 0 {
				jobNum = j.Number
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO circleci_job AS t (key, project, workflow_id, workflow_name, job_id, job_name, job_number, status,
 started_at, stopped_at, happened_at, delivery_id, received_at, revision, payload)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
 ON CONFLICT (key) DO UPDATE SET workflow_id = excluded.workflow_id, workflow_name = excluded.workflow_name, job_id = excluded.job_id,
 job_name = excluded.job_name, job_number = excluded.job_number, status = excluded.status, started_at = excluded.started_at,
 stopped_at = excluded.stopped_at, happened_at = excluded.happened_at, delivery_id = excluded.delivery_id,
 received_at = excluded.received_at, revision = t.revision + 1, payload = excluded.payload
 WHERE excluded.happened_at >= t.happened_at`,
			key, project, wfID, wfName, jobID, jobName, jobNum, status, started, stopped, happened, ev.ID, recv, string(body)); err != nil {
			return false, fmt.Errorf("project circleci delivery %s: %w", ev.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store circleci delivery %s: commit: %w", ev.ID, err)
	}
	return false, nil
}

func nz(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// FlushArchive writes every unarchived delivery to the archive, one
// NDJSON.gz object per (type, hour) group, and marks them archived. A crash
// between writing and marking writes the group again (a line may appear
// twice, never zero times).
func (s *Service) FlushArchive(ctx context.Context) error {
	if s.cfg.Archive == nil {
		return nil
	}
	for {
		rows, err := s.cfg.DB.Query(ctx, `SELECT id, delivery_id, type, received_at, payload FROM circleci_deliveries
 WHERE archived_at IS NULL ORDER BY id LIMIT 2000`)
		if err != nil {
			return fmt.Errorf("circleci archive: select: %w", err)
		}
		type line struct {
			id                 int64
			did, typ, received string
			payload            []byte
		}
		groups := map[string][]line{}
		var order []string
		n := 0
		for rows.Next() {
			var l line
			if err := rows.Scan(&l.id, &l.did, &l.typ, &l.received, &l.payload); err != nil {
				rows.Close()
				return fmt.Errorf("circleci archive: scan: %w", err)
			}
			t, _ := db.ParseTime(l.received)
			g := fmt.Sprintf("circleci/event=%s/date=%s/hour=%s", safe(l.typ), t.UTC().Format("2006-01-02"), t.UTC().Format("15"))
			if _, ok := groups[g]; !ok {
				order = append(order, g)
			}
			groups[g] = append(groups[g], l)
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("circleci archive: select: %w", err)
		}
		if n == 0 {
			return nil
		}
		for _, g := range order {
			ls := groups[g]
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			enc := json.NewEncoder(zw)
			for _, l := range ls {
				if err := enc.Encode(map[string]any{"delivery_id": l.did, "type": l.typ, "received_at": l.received,
					"payload": json.RawMessage(l.payload)}); err != nil {
					return fmt.Errorf("circleci archive: encode %s: %w", l.did, err)
				}
			}
			if err := zw.Close(); err != nil {
				return fmt.Errorf("circleci archive: gzip: %w", err)
			}
			key := fmt.Sprintf("%s/%012d-%012d.ndjson.gz", g, ls[0].id, ls[len(ls)-1].id)
			if _, err := s.cfg.Archive.Put(ctx, key, bytes.NewReader(buf.Bytes()),
				store.PutOptions{ContentType: archiveContentType, Size: int64(buf.Len())}); err != nil {
				s.archived.WithLabelValues("error").Inc()
				return fmt.Errorf("circleci archive: %w", err)
			}
			s.archived.WithLabelValues("ok").Inc()
			ids := make([]any, 0, len(ls)+1)
			ids = append(ids, db.Now())
			for _, l := range ls {
				ids = append(ids, l.id)
			}
			if _, err := s.cfg.DB.Exec(ctx, "UPDATE circleci_deliveries SET archived_at = ? WHERE id IN (?"+strings.Repeat(", ?", len(ls)-1)+")", ids...); err != nil {
				return fmt.Errorf("circleci archive: mark archived: %w", err)
			}
		}
	}
}

// archiveContentType is the type of an archive batch: a gzip file stored
// as such, without Content-Encoding (as the GitHub delivery archive, see
// internal/webhooks/archive.go: a .gz object readers decompress by name).
const archiveContentType = "application/gzip"

// safe keeps a partition value to [a-z0-9_-].
func safe(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
