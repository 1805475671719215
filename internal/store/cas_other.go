//go:build !unix

package store

import (
	"context"
	"errors"
	"fmt"
)

// lockDir is not implemented where flock is unavailable: conditional writes
// on file:// fail there.
func lockDir(ctx context.Context, dir string) (func(), error) {
	return nil, fmt.Errorf("conditional writes on file:// on this OS: %w", errors.ErrUnsupported)
}
