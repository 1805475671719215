//go:build !unix

package store

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// lockDir is not implemented where flock is unavailable: conditional writes
// on file:// fail there.
func lockDir(ctx context.Context, dir string) (func(), error) {
	return nil, fmt.Errorf("conditional writes on file:// on this OS: %w", errors.ErrUnsupported)
}

// lockFile is not implemented where flock is unavailable: If-Match writes on
// file:// fail there.
func lockFile(ctx context.Context, path string) (func(), os.FileInfo, error) {
	return nil, nil, fmt.Errorf("conditional writes on file:// on this OS: %w", errors.ErrUnsupported)
}
