package statuses

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/ghsync/ghsync/internal/store"
)

// writeIDMeta is the user-metadata key under which each snapshot write
// stores an id of its own, so that a write whose answer was lost can be
// recognised afterwards.
const writeIDMeta = "ghsync_write"

// newWriteID returns a random id for one snapshot write.
func newWriteID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ownWriteLanded reports whether the object at key is the very write this
// run attempted: it carries writeID and holds body (the snapshot's JSON,
// compared after gunzip). A conditional write that fails its precondition
// after an attempt whose answer was lost (the store wrote it, the client saw
// a 502 and retried on the old condition) is then done; an object written by
// anyone else, even with the same bytes, is not this run's.
func ownWriteLanded(ctx context.Context, b *store.Bucket, key, format, writeID string, body []byte) (bool, error) {
	st, err := b.Stat(ctx, key)
	if err != nil {
		return false, fmt.Errorf("check whether this run's write landed: %w", err)
	}
	if st.Metadata[writeIDMeta] != writeID {
		return false, nil
	}
	data, etag, err := b.Read(ctx, key)
	if err != nil {
		return false, fmt.Errorf("check whether this run's write landed: %w", err)
	}
	if etag != st.ETag {
		return false, nil // replaced between the two reads: not ours any more
	}
	raw, _, err := decode(format, data)
	if err != nil {
		return false, fmt.Errorf("check whether this run's write landed: %s: %w", key, err)
	}
	return bytes.Equal(raw, body), nil
}
