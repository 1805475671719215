package cdn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/ghsync/ghsync/internal/store"
)

// OwedName is the owed record's file name, kept in the manifest's folder
// (".ghsync/invalidate-owed.json" by default), which repo sync never deletes.
const OwedName = "invalidate-owed.json"

// owedVersion is the owed record's format version.
const owedVersion = 1

// owed is the record of paths whose invalidation failed, per target URL.
// It is its own small object (not part of the manifest), written only when
// it changes, with a conditional write.
type owed struct {
	Version int                 `json:"version"`
	Paths   map[string][]string `json:"paths"` // target URL → CDN paths still owed
	etag    string              // "" when the object does not exist
}

// readOwed reads the owed record at key (empty when there is none).
func readOwed(ctx context.Context, b *store.Bucket, key string) (*owed, error) {
	o := &owed{Version: owedVersion, Paths: map[string][]string{}}
	data, etag, err := b.Read(ctx, key)
	if errors.Is(err, store.ErrNotExist) {
		return o, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read owed invalidations %s: %w", key, err)
	}
	if err := json.Unmarshal(data, o); err != nil {
		return nil, fmt.Errorf("read owed invalidations %s: %w (delete it to drop what it owes)", key, err)
	}
	if o.Version != owedVersion {
		return nil, fmt.Errorf("read owed invalidations %s: unknown version %d (written by a newer ghsync?)", key, o.Version)
	}
	if o.Paths == nil {
		o.Paths = map[string][]string{}
	}
	o.etag = etag
	return o, nil
}

// same reports whether o owes exactly next.
func (o *owed) same(next map[string][]string) bool {
	return maps.EqualFunc(o.Paths, next, slices.Equal[[]string])
}

// write replaces the record with next, conditionally on the version read
// (another writer in between fails the write with ErrPreconditionFailed);
// an empty next deletes it.
func (o *owed) write(ctx context.Context, b *store.Bucket, key string, next map[string][]string) error {
	if o.same(next) {
		return nil
	}
	if len(next) == 0 {
		if err := b.Delete(ctx, []string{key}); err != nil {
			return fmt.Errorf("delete owed invalidations %s: %w", key, err)
		}
		return nil
	}
	data, err := json.MarshalIndent(owed{Version: owedVersion, Paths: next}, "", " ")
	if err != nil {
		return err
	}
	po := store.PutOptions{ContentType: "application/json", Size: int64(len(data)), IfMatch: o.etag, IfNoneMatch: o.etag == ""}
	if _, err := b.Put(ctx, key, bytes.NewReader(data), po); err != nil {
		return fmt.Errorf("write owed invalidations %s: %w", key, err)
	}
	return nil
}
