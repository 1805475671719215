package store

import (
	"context"
	"fmt"
	"strings"
)

// List calls fn for every object under the prefix, in key order, paging
// through the store 1,000 keys at a time. Each Object carries Key, Size,
// ETag, MD5 (when known) and ModTime; Metadata and ContentType are not filled
// (use Stat). ETags come from the listing itself on every scheme whose
// Capabilities.ListETags is true. An error from fn stops the listing and is
// returned.
func (b *Bucket) List(ctx context.Context, fn func(Object) error) error {
	return b.ListUnder(ctx, "", fn)
}

// ListUnder is List restricted to the keys that start with sub (relative
// to the bucket prefix, like every key fn receives): the store is asked
// for that prefix only, so listing a small folder of a large bucket costs
// what the folder holds.
func (b *Bucket) ListUnder(ctx context.Context, sub string, fn func(Object) error) error {
	if err := b.live(); err != nil {
		return fmt.Errorf("list: %w", err)
	}
	token := ""
	for {
		page, next, err := b.drv.listPage(ctx, b.prefix+sub, token)
		if err != nil {
			return fmt.Errorf("list %s: %w", b.url, withURL(classify(err), b.url))
		}
		for _, obj := range page {
			if !strings.HasPrefix(obj.Key, b.prefix) {
				return fmt.Errorf("list %s: the store returned key %q outside the prefix", b.url, obj.Key)
			}
			obj.Key = strings.TrimPrefix(obj.Key, b.prefix)
			if err := fn(obj); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		token = next
	}
}
