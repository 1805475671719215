package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func (d *s3Driver) read(ctx context.Context, key string) ([]byte, string, error) {
	d.b.stats.add(KindGet, 1)
	out, err := d.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.name), Key: aws.String(key)})
	if err != nil {
		return nil, "", fmt.Errorf("GetObject: %w", err)
	}
	defer out.Body.Close()
	declared := int64(-1)
	if out.ContentLength != nil {
		declared = *out.ContentLength
	}
	data, err := readBody(out.Body, declared)
	if err != nil {
		return nil, "", fmt.Errorf("GetObject body: %w", err)
	}
	return data, aws.ToString(out.ETag), nil
}

func (d *s3Driver) stat(ctx context.Context, key string) (Object, error) {
	d.b.stats.add(KindHead, 1)
	out, err := d.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(d.name), Key: aws.String(key)})
	if err != nil {
		return Object{}, fmt.Errorf("HeadObject: %w", err)
	}
	// Values are escaped on write as gocloud's s3blob does (escapeMetadata).
	md := s3Metadata(out.Metadata)
	etag := aws.ToString(out.ETag)
	return Object{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: etag, MD5: etagMD5(etag),
		Metadata: md, ContentType: aws.ToString(out.ContentType), CacheControl: aws.ToString(out.CacheControl),
		ContentEncoding: aws.ToString(out.ContentEncoding), ModTime: aws.ToTime(out.LastModified)}, nil
}

func (d *s3Driver) listPage(ctx context.Context, prefix, token string) ([]Object, string, error) {
	d.b.stats.add(KindList, 1)
	in := &s3.ListObjectsV2Input{Bucket: aws.String(d.name), MaxKeys: aws.Int32(listPage)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	if token != "" {
		in.ContinuationToken = aws.String(token)
	}
	out, err := d.client.ListObjectsV2(ctx, in, retryCutAnswer)
	if err != nil {
		return nil, "", fmt.Errorf("ListObjectsV2: %w", err)
	}
	objs := make([]Object, 0, len(out.Contents))
	for _, o := range out.Contents {
		etag := aws.ToString(o.ETag)
		objs = append(objs, Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: etag,
			MD5: etagMD5(etag), ModTime: aws.ToTime(o.LastModified)})
	}
	next := ""
	if aws.ToBool(out.IsTruncated) {
		next = aws.ToString(out.NextContinuationToken)
		if next == "" {
			return nil, "", errors.New("ListObjectsV2: truncated listing without a continuation token")
		}
	}
	return objs, next, nil
}

// delete sends DeleteObjects batches of up to 1,000 keys.
func (d *s3Driver) delete(ctx context.Context, keys []string) error {
	var errs []error
	for start := 0; start < len(keys); start += deleteBatch {
		batch := keys[start:min(start+deleteBatch, len(keys))]
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, k := range batch {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		d.b.stats.add(KindDelete, 1)
		out, err := d.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(d.name),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		}, retryCutAnswer)
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("DeleteObjects (%d keys from %s): %w", len(batch), batch[0], err))...)
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
