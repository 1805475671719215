package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Delete removes the objects at keys. Keys that do not exist are not errors.
// On S3 it sends DeleteObjects batches of 1,000 keys; other drivers delete one
// key per request with at most Concurrency requests in flight. All keys are
// attempted; the error lists the keys that could not be deleted.
func (b *Bucket) Delete(ctx context.Context, keys []string) error {
	for _, k := range keys {
		if err := CheckKey(k); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
	}
	if b.kind == "s3" {
		return b.deleteS3(ctx, keys)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	sem := make(chan struct{}, b.conc)
	for _, k := range keys {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return fmt.Errorf("delete: %w", ctx.Err())
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			b.stats.add(KindDelete, 1)
			if err := classify(b.view.Delete(ctx, k)); err != nil && !errors.Is(err, ErrNotExist) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("delete %s: %w", b.full(k), err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (b *Bucket) deleteS3(ctx context.Context, keys []string) error {
	var errs []error
	for start := 0; start < len(keys); start += deleteBatch {
		batch := keys[start:min(start+deleteBatch, len(keys))]
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, k := range batch {
			ids[i] = types.ObjectIdentifier{Key: aws.String(b.full(k))}
		}
		b.stats.add(KindDelete, 1)
		out, err := b.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(b.s3Name),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("DeleteObjects (%d keys from %s): %w", len(batch), b.full(batch[0]), err))...)
		}
		var failed []string
		for _, e := range out.Errors {
			if aws.ToString(e.Code) == "NoSuchKey" {
				continue
			}
			failed = append(failed, fmt.Sprintf("%s (%s: %s)", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message)))
		}
		if len(failed) > 0 {
			errs = append(errs, fmt.Errorf("DeleteObjects: %d keys not deleted: %s", len(failed), strings.Join(failed, ", ")))
		}
	}
	return errors.Join(errs...)
}
