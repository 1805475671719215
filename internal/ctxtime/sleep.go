// Package ctxtime holds time helpers that respect a context.
package ctxtime

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx is done; it returns ctx.Err() in that case
// (and at once when d <= 0 and ctx is already done).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
