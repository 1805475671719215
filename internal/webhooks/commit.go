package webhooks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ghsync/ghsync/internal/db"
)

// errClosed is returned for commits attempted after Close.
var errClosed = errors.New("webhook service is shutting down")

// maxGroup bounds how many deliveries share one transaction.
const maxGroup = 256

type commitReq struct {
	d    *Delivery
	at   time.Time
	done chan commitRes
}

type commitRes struct {
	dup bool
	err error
}

// committer group-commits deliveries: concurrent requests are gathered into
// one transaction, so one fsync covers many deliveries while each request still
// waits for its own durable commit before it is answered.
type committer struct {
	d      *db.DB
	log    *slog.Logger
	m      *metrics
	after  func()
	reqs   chan commitReq
	mu     sync.RWMutex
	closed bool
	done   chan struct{}
}

func newCommitter(d *db.DB, log *slog.Logger, m *metrics, after func()) *committer {
	c := &committer{d: d, log: log, m: m, after: after, reqs: make(chan commitReq, maxGroup), done: make(chan struct{})}
	go c.loop()
	return c
}

// commit stores d durably; dup reports that its delivery id was already stored
// (nothing was written).
func (c *committer) commit(ctx context.Context, d *Delivery, at time.Time) (dup bool, err error) {
	req := commitReq{d: d, at: at, done: make(chan commitRes, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return false, errClosed
	}
	select {
	case c.reqs <- req:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		return false, ctx.Err()
	}
	// Wait for the result even if ctx ends: the commit may still succeed, and
	// the answer must reflect what was stored.
	res := <-req.done
	return res.dup, res.err
}

// close stops accepting requests and waits for queued ones to be committed.
func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.reqs)
	}
	c.mu.Unlock()
	<-c.done
}

func (c *committer) loop() {
	defer close(c.done)
	batch := make([]commitReq, 0, maxGroup)
	for first := range c.reqs {
		batch = append(batch[:0], first)
	gather:
		for len(batch) < maxGroup {
			select {
			case r, ok := <-c.reqs:
				if !ok {
					break gather
				}
				batch = append(batch, r)
			default:
				break gather
			}
		}
		c.m.commitBatch.Observe(float64(len(batch)))
		// Commits must not be abandoned because a client went away, and are
		// bounded by the database's own timeouts.
		ctx := context.Background()
		dups, err := c.insertAll(ctx, batch)
		if err != nil && len(batch) > 1 {
			// One bad delivery must not fail the others: retry one by one.
			c.log.Warn("group commit failed, retrying deliveries one by one", "n", len(batch), "err", err)
			for _, r := range batch {
				d, err := c.insertAll(ctx, []commitReq{r})
				r.done <- commitRes{dup: err == nil && d[0], err: err}
			}
		} else {
			for i, r := range batch {
				res := commitRes{err: err}
				if err == nil {
					res.dup = dups[i]
				}
				r.done <- res
			}
		}
		c.after()
	}
}

const insertDelivery = `INSERT INTO deliveries
 (delivery_id, event, action, hook_id, installation_id, repo, received_at, payload_size, attempts, next_attempt_at)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
 ON CONFLICT (delivery_id) DO NOTHING RETURNING id`

const insertPayload = `INSERT INTO delivery_payloads (delivery_pk, headers, payload) VALUES (?, ?, ?)`

// insertAll inserts the batch in one transaction; dups[i] reports that
// batch[i]'s delivery id was already present.
func (c *committer) insertAll(ctx context.Context, batch []commitReq) ([]bool, error) {
	tx, err := c.d.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("store deliveries: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, c.d.Rebind(insertDelivery))
	if err != nil {
		return nil, fmt.Errorf("store deliveries: prepare: %w", err)
	}
	defer stmt.Close()
	pstmt, err := tx.PrepareContext(ctx, c.d.Rebind(insertPayload))
	if err != nil {
		return nil, fmt.Errorf("store deliveries: prepare: %w", err)
	}
	defer pstmt.Close()
	dups := make([]bool, len(batch))
	for i, r := range batch {
		d := r.d
		hdr, err := json.Marshal(d.Headers)
		if err != nil {
			return nil, fmt.Errorf("store delivery %s: headers: %w", d.DeliveryID, err)
		}
		at := db.FormatTime(r.at)
		var id int64
		err = stmt.QueryRowContext(ctx, d.DeliveryID, d.Event, nullStr(d.Action), nullInt(d.HookID), nullInt(d.InstallationID),
			nullStr(d.Repo), at, int64(len(d.Payload)), at).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			dups[i] = true // already stored: nothing written
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store delivery %s: %w", d.DeliveryID, err)
		}
		if _, err := pstmt.ExecContext(ctx, id, string(hdr), d.Payload); err != nil {
			return nil, fmt.Errorf("store delivery %s: payload: %w", d.DeliveryID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store deliveries: commit: %w", err)
	}
	return dups, nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}
