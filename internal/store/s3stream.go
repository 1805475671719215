package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

func (d *s3Driver) open(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	d.b.stats.add(KindGet, 1)
	out, err := d.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.name), Key: aws.String(key)})
	if err != nil {
		return nil, Object{}, fmt.Errorf("GetObject: %w", err)
	}
	etag := aws.ToString(out.ETag)
	return out.Body, Object{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: etag, MD5: etagMD5(etag),
		Metadata: s3Metadata(out.Metadata), ContentType: aws.ToString(out.ContentType),
		CacheControl: aws.ToString(out.CacheControl), ContentEncoding: aws.ToString(out.ContentEncoding),
		ModTime: aws.ToTime(out.LastModified)}, nil
}

// s3Metadata decodes user metadata as written by put (escapeMetadata).
func s3Metadata(in map[string]string) map[string]string {
	md := make(map[string]string, len(in))
	for k, v := range in {
		if u, err := url.PathUnescape(v); err == nil {
			v = u
		}
		md[strings.ToLower(k)] = v
	}
	return md
}

// copy makes one CopyObject request (the metadata and headers are copied
// with the object). Larger objects than CopyObject takes are refused by the
// server with InvalidRequest or EntityTooLarge: errNoServerCopy, so they are
// streamed.
func (d *s3Driver) copy(ctx context.Context, dst, src string) error {
	_, err := d.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(d.name), Key: aws.String(dst),
		CopySource: aws.String(copySource(d.name, src))})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && (ae.ErrorCode() == "EntityTooLarge" || ae.ErrorCode() == "InvalidRequest") {
			return fmt.Errorf("CopyObject: %w: %w", errNoServerCopy, err)
		}
		return fmt.Errorf("CopyObject: %w", err)
	}
	return nil
}

// copySource renders the x-amz-copy-source value: bucket/key, every
// character of the key but "/" and the unreserved ones percent-encoded.
func copySource(bucket, key string) string {
	var b strings.Builder
	b.WriteString(url.PathEscape(bucket))
	b.WriteByte('/')
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c == '/' || c == '-' || c == '_' || c == '.' || c == '~' ||
			c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
