//go:build !unix

package store

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// putFileCAS is not implemented where flock is unavailable.
func (b *Bucket) putFileCAS(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	return Object{}, fmt.Errorf("conditional writes on file:// on this OS: %w", errors.ErrUnsupported)
}
