package store

import (
	"context"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"gocloud.dev/blob"
)

// fileTemp matches the temporary files the file driver writes next to their
// final name while an upload is in flight.
var fileTemp = regexp.MustCompile(`\.[0-9a-f]{8,16}\.tmp$`)

// List calls fn for every object under the prefix, in key order, paging
// through the store 1,000 keys at a time. Each Object carries Key, Size,
// ETag, MD5 (when known) and ModTime; Metadata and ContentType are not filled
// (use Stat). ETags come from the listing itself on S3, file:// and mem://; on
// gs:// and azblob:// each object costs one HEAD. An error from fn stops the
// listing and is returned.
func (b *Bucket) List(ctx context.Context, fn func(Object) error) error {
	token := blob.FirstPageToken
	for {
		b.stats.add(KindList, 1)
		page, next, err := b.view.ListPage(ctx, token, listPage, nil)
		if err != nil {
			return fmt.Errorf("list %s: %w", b.url, classify(err))
		}
		for _, lo := range page {
			if lo.IsDir || (b.kind == "file" && fileTemp.MatchString(lo.Key)) {
				continue
			}
			obj := Object{Key: lo.Key, Size: lo.Size, MD5: lo.MD5, ModTime: lo.ModTime}
			if obj.ETag, err = b.listETag(ctx, lo); err != nil {
				return err
			}
			if err := fn(obj); err != nil {
				return err
			}
		}
		if len(next) == 0 {
			return nil
		}
		token = next
	}
}

// listETag returns the ETag of a listed object, from the listing when the
// driver provides it.
func (b *Bucket) listETag(ctx context.Context, lo *blob.ListObject) (string, error) {
	switch b.kind {
	case "s3":
		var so types.Object
		if lo.As(&so) {
			return aws.ToString(so.ETag), nil
		}
	case "file", "mem":
		return synthETag(lo.ModTime, lo.Size), nil
	}
	b.stats.add(KindHead, 1)
	a, err := b.view.Attributes(ctx, lo.Key)
	if err != nil {
		return "", fmt.Errorf("list %s: stat %s: %w", b.url, lo.Key, classify(err))
	}
	return a.ETag, nil
}
