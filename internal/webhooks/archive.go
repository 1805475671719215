package webhooks

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/store"
)

// archiveReadLimit bounds how many deliveries one archive pass reads.
const archiveReadLimit = 2000

// archiver copies stored deliveries to the bucket, reading them from the
// database (archived_at IS NULL), so that a bucket outage only delays it.
type archiver struct {
	d   *db.DB
	cfg ArchiveConfig
	log *slog.Logger
	m   *metrics
	now func() time.Time
}

func newArchiver(d *db.DB, cfg ArchiveConfig, log *slog.Logger, m *metrics) *archiver {
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = 64 << 20
	}
	if cfg.BatchAge <= 0 {
		cfg.BatchAge = 5 * time.Minute
	}
	if cfg.Interval <= 0 {
		cfg.Interval = min(cfg.BatchAge/4, 10*time.Second)
		if cfg.Interval < 10*time.Millisecond {
			cfg.Interval = 10 * time.Millisecond
		}
	}
	return &archiver{d: d, cfg: cfg, log: log, m: m, now: time.Now}
}

func (a *archiver) loop(ctx context.Context) {
	t := time.NewTicker(a.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.flush(ctx, false); err != nil && ctx.Err() == nil {
			a.log.Error("archiving webhook deliveries (will retry)", "err", err)
		}
	}
}

// flush archives pending deliveries: all of them when force is set, else only
// when BatchBytes are pending or the oldest pending delivery is BatchAge old.
func (a *archiver) flush(ctx context.Context, force bool) error {
	for {
		if !force {
			var n, size int64
			var oldest *string
			if err := a.d.QueryRow(ctx, "SELECT COUNT(*), COALESCE(SUM(payload_size), 0), MIN(received_at) FROM deliveries WHERE archived_at IS NULL").
				Scan(&n, &size, &oldest); err != nil {
				return fmt.Errorf("archive: pending: %w", err)
			}
			if n == 0 {
				return nil
			}
			due := size >= a.cfg.BatchBytes
			if oldest != nil {
				if t, err := db.ParseTime(*oldest); err == nil && a.now().Sub(t) >= a.cfg.BatchAge {
					due = true
				}
			}
			if !due {
				return nil
			}
		}
		n, err := a.pass(ctx)
		if err != nil {
			return err
		}
		if n < archiveReadLimit {
			return nil
		}
	}
}

type archRow struct {
	id             int64
	deliveryID     string
	event          string
	action         *string
	installationID *int64
	repo           *string
	receivedAt     string
	payload        []byte
}

// pass archives up to archiveReadLimit deliveries (and about BatchBytes of
// payload) and marks the ones written; it reports how many it read.
func (a *archiver) pass(ctx context.Context) (int, error) {
	rows, err := a.d.Query(ctx, `SELECT d.id, d.delivery_id, d.event, d.action, d.installation_id, d.repo, d.received_at, p.payload
 FROM deliveries d JOIN delivery_payloads p ON p.delivery_pk = d.id
 WHERE d.archived_at IS NULL ORDER BY d.id LIMIT ?`, archiveReadLimit)
	if err != nil {
		return 0, fmt.Errorf("archive: select: %w", err)
	}
	var all []archRow
	var size int64
	for rows.Next() && size < a.cfg.BatchBytes {
		var r archRow
		if err := rows.Scan(&r.id, &r.deliveryID, &r.event, &r.action, &r.installationID, &r.repo, &r.receivedAt, &r.payload); err != nil {
			rows.Close()
			return 0, fmt.Errorf("archive: scan: %w", err)
		}
		size += int64(len(r.payload))
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("archive: rows: %w", err)
	}
	if len(all) == 0 {
		return 0, nil
	}
	read := len(all)
	if size >= a.cfg.BatchBytes {
		read = archiveReadLimit // there may be more
	}
	var errs []error
	var done []int64
	if a.cfg.PerDelivery {
		ok := all[:0:0]
		for _, r := range all {
			key := safeSegment(r.event) + "/" + safeSegment(r.deliveryID) + ".json"
			if err := a.put(ctx, key, r.payload, perDeliveryType); err != nil {
				a.m.archived.WithLabelValues("per_delivery", "error").Inc()
				errs = append(errs, err)
				continue
			}
			a.m.archived.WithLabelValues("per_delivery", "ok").Inc()
			ok = append(ok, r)
		}
		all = ok
	}
	// Group by partition, keeping id order within each.
	groups := map[string][]archRow{}
	var order []string
	for _, r := range all {
		p := partition(r.event, r.receivedAt)
		if _, seen := groups[p]; !seen {
			order = append(order, p)
		}
		groups[p] = append(groups[p], r)
	}
	for _, p := range order {
		g := groups[p]
		key := fmt.Sprintf("%s/%012d-%012d.ndjson.gz", p, g[0].id, g[len(g)-1].id)
		body, err := ndjsonGzip(g)
		if err != nil {
			err = fmt.Errorf("archive: %s: %w", key, err)
		} else {
			err = a.put(ctx, key, body, batchContentType)
		}
		if err != nil {
			a.m.archived.WithLabelValues("batch", "error").Inc()
			errs = append(errs, err)
			continue
		}
		a.m.archived.WithLabelValues("batch", "ok").Inc()
		for _, r := range g {
			done = append(done, r.id)
		}
	}
	if err := a.mark(ctx, done); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return 0, errors.Join(errs...)
	}
	return read, nil
}

// Content types of the archive objects. A batch is a gzip file (its name
// ends in .gz, and Athena, DuckDB and Spark decompress it by that name), so
// it is stored as application/gzip without Content-Encoding: with
// "Content-Encoding: gzip" GCS would serve it decompressed (transcoding) and
// HTTP clients that honour the header would hand readers plain NDJSON under
// a .gz name.
const (
	batchContentType = "application/gzip"
	perDeliveryType  = "application/json"
)

// put writes one archive object through the store (key checks, request
// counters, the scheme's own write path); the error names the object.
func (a *archiver) put(ctx context.Context, key string, body []byte, contentType string) error {
	_, err := a.cfg.Bucket.Put(ctx, key, bytes.NewReader(body), store.PutOptions{ContentType: contentType, Size: int64(len(body))})
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	return nil
}

func (a *archiver) mark(ctx context.Context, ids []int64) error {
	now := db.Now()
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		args := []any{now}
		for _, id := range chunk {
			args = append(args, id)
		}
		q := "UPDATE deliveries SET archived_at = ? WHERE id IN (?" + strings.Repeat(", ?", len(chunk)-1) + ")"
		if _, err := a.d.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("archive: mark archived: %w", err)
		}
	}
	return nil
}

// partition returns raw/event=E/date=YYYY-MM-DD/hour=HH for a delivery.
func partition(event, receivedAt string) string {
	t, err := db.ParseTime(receivedAt)
	if err != nil {
		t = time.Unix(0, 0)
	}
	t = t.UTC()
	return fmt.Sprintf("raw/event=%s/date=%s/hour=%02d", safeSegment(event), t.Format("2006-01-02"), t.Hour())
}

// archiveLine is one NDJSON record of the raw archive.
type archiveLine struct {
	DeliveryID     string          `json:"delivery_id"`
	Event          string          `json:"event"`
	Action         *string         `json:"action,omitempty"`
	InstallationID *int64          `json:"installation_id,omitempty"`
	Repo           *string         `json:"repo,omitempty"`
	ReceivedAt     string          `json:"received_at"`
	Payload        json.RawMessage `json:"payload"`
}

func ndjsonGzip(rows []archRow) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	var compact bytes.Buffer
	for _, r := range rows {
		compact.Reset()
		payload := json.RawMessage(r.payload)
		if json.Compact(&compact, r.payload) == nil {
			payload = json.RawMessage(bytes.Clone(compact.Bytes()))
		}
		if err := enc.Encode(archiveLine{r.deliveryID, r.event, r.action, r.installationID, r.repo, r.receivedAt, payload}); err != nil {
			return nil, fmt.Errorf("encode delivery %s: %w", r.deliveryID, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return buf.Bytes(), nil
}

var safeRE = sync.OnceValue(func() *regexp.Regexp { // compiled on first use, not at init
	return regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$`)
})

// safeSegment returns s when it is a harmless object-key segment, else a hash.
func safeSegment(s string) string {
	if safeRE().MatchString(s) {
		return s
	}
	h := sha256.Sum256([]byte(s))
	return "x-" + hex.EncodeToString(h[:8])
}
