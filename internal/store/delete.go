package store

import (
	"context"
	"errors"
	"fmt"
)

// Delete removes the objects at keys. Keys that do not exist are not errors.
// Schemes with batch delete (Capabilities.DeleteBatch > 1, S3's DeleteObjects)
// send batches; the others delete one key per request with at most
// Concurrency requests in flight. All keys are attempted; the error lists the
// keys that could not be deleted.
func (b *Bucket) Delete(ctx context.Context, keys []string) error {
	if err := b.live(); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		if err := b.CheckKey(k); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		full[i] = b.full(k)
	}
	return b.drv.delete(ctx, full)
}

// deleteEach deletes keys one request each, at most b.conc in flight; keys
// that do not exist are not errors. All keys are attempted.
func deleteEach(ctx context.Context, b *Bucket, keys []string, del func(context.Context, string) error) error {
	return eachBounded(ctx, b.conc, keys, func(k string) error {
		b.stats.add(KindDelete, 1)
		if err := classify(del(ctx, k)); err != nil && !errors.Is(err, ErrNotExist) {
			return fmt.Errorf("delete %s: %w", k, err)
		}
		return nil
	})
}
