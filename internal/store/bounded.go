package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// eachBounded calls fn for every item, at most conc at a time, and returns
// every error fn returned, joined. All items are attempted unless ctx is
// done, which stops starting new calls (and is returned).
func eachBounded[T any](ctx context.Context, conc int, items []T, fn func(T) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	sem := make(chan struct{}, max(conc, 1))
	for _, it := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return errors.Join(append(errs, fmt.Errorf("delete: %w", ctx.Err()))...)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(it); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
