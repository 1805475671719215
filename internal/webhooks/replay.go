package webhooks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ghsync/ghsync/internal/db"
)

// ErrNoDelivery is matched (errors.Is) by Replay's error when no stored
// delivery has the given id.
var ErrNoDelivery = errors.New("no such delivery")

// Replayed describes a delivery queued again by Replay.
type Replayed struct {
	DeliveryID string `json:"delivery_id"`
	Event      string `json:"event"`
	// WasProcessed is true when the delivery had been projected before.
	WasProcessed bool `json:"was_processed"`
}

// Replay queues the stored delivery deliveryID to be projected again: its
// processed state, attempts and last error are cleared and it is due now,
// so the worker of `ghsync serve` (any replica on the database) projects it
// once more on its next pass, through the same ordering guard as a new
// delivery (a row already holding newer state keeps it). The payload must
// still be in the database: once a delivery is archived and processed,
// retention removes it from SQL, and Replay says so.
func Replay(ctx context.Context, d *db.DB, deliveryID string) (*Replayed, error) {
	var pk int64
	var event string
	var processed, payload sql.NullString
	err := d.QueryRow(ctx, `SELECT d.id, d.event, d.processed_at, CASE WHEN p.delivery_pk IS NULL THEN NULL ELSE 'y' END
 FROM deliveries d LEFT JOIN delivery_payloads p ON p.delivery_pk = d.id WHERE d.delivery_id = ?`, deliveryID).
		Scan(&pk, &event, &processed, &payload)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w %q in %s (see ghsync events deliveries)", ErrNoDelivery, deliveryID, d)
	}
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", deliveryID, err)
	}
	if !payload.Valid {
		return nil, fmt.Errorf("replay %s: its payload is no longer in the database (archived and removed by retention); redeliver it from GitHub instead", deliveryID)
	}
	if _, err := d.Exec(ctx, `UPDATE deliveries SET processed_at = NULL, attempts = 0, last_error = NULL, next_attempt_at = ? WHERE id = ?`,
		db.Now(), pk); err != nil {
		return nil, fmt.Errorf("replay %s: %w", deliveryID, err)
	}
	return &Replayed{DeliveryID: deliveryID, Event: event, WasProcessed: processed.Valid}, nil
}
