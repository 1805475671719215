package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// s3Write carries the per-object request fields shared by the single and
// multipart paths.
type s3Write struct {
	key         string // full key
	contentType string
	o           PutOptions
	md          map[string]string // escaped as gocloud's s3blob does
}

// s3Driver serves s3:// through the S3 client itself, so keys are sent
// verbatim and writes carry If-Match / If-None-Match.
type s3Driver struct {
	b      *Bucket
	client *s3.Client
	name   string // bucket name
}

// put uploads through the S3 client: one PutObject when the body is at most
// one part (read into a pooled buffer sized to it), otherwise a multipart
// upload. The ETag comes from the response.
func (d *s3Driver) put(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	b := d.b
	h, err := b.bufs.readHead(r, b.part, o.Size)
	if err != nil {
		return Object{}, fmt.Errorf("read body: %w", err)
	}
	defer h.release()
	w := s3Write{key: key, contentType: o.ContentType, o: o, md: escapeMetadata(o.Metadata)}
	if w.contentType == "" {
		// Same default as gocloud's writer: sniff the first 512 bytes.
		w.contentType = sniffType(h.data)
	}
	obj := Object{Key: key, Metadata: o.Metadata, ContentType: w.contentType}
	var etag string
	if h.whole {
		etag, err = d.putObject(ctx, w, h.data)
		obj.Size = int64(len(h.data))
	} else {
		etag, obj.Size, err = d.multipart(ctx, w, h.data, h.rest)
	}
	if err != nil {
		return Object{}, err
	}
	b.stats.uploaded(obj.Size)
	obj.ETag = etag
	obj.MD5 = etagMD5(etag)
	return obj, nil
}

// escapeMetadata applies s3blob's value escaping so gocloud reads the values
// back unchanged (keys are already restricted to characters it leaves alone).
func escapeMetadata(md map[string]string) map[string]string {
	out := make(map[string]string, len(md))
	for k, v := range md {
		out[k] = url.PathEscape(v)
	}
	return out
}

// etagMD5 decodes a plain MD5 ETag; nil for multipart and other forms.
func etagMD5(etag string) []byte {
	sum, err := hex.DecodeString(normETag(etag))
	if err != nil || len(sum) != 16 {
		return nil
	}
	return sum
}

func conditions(o PutOptions) (ifMatch, ifNoneMatch *string) {
	if o.IfMatch != "" {
		ifMatch = aws.String(o.IfMatch)
	}
	if o.IfNoneMatch {
		ifNoneMatch = aws.String("*")
	}
	return ifMatch, ifNoneMatch
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func (d *s3Driver) putObject(ctx context.Context, w s3Write, body []byte) (string, error) {
	b := d.b
	ifMatch, ifNoneMatch := conditions(w.o)
	b.stats.add(KindPut, 1)
	out, err := d.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:          aws.String(d.name),
		Key:             aws.String(w.key),
		Body:            bytes.NewReader(body),
		ContentLength:   aws.Int64(int64(len(body))),
		ContentType:     aws.String(w.contentType),
		CacheControl:    optString(w.o.CacheControl),
		ContentEncoding: optString(w.o.ContentEncoding),
		Metadata:        w.md,
		IfMatch:         ifMatch,
		IfNoneMatch:     ifNoneMatch,
	})
	if err != nil {
		return "", fmt.Errorf("PutObject: %w", err)
	}
	return aws.ToString(out.ETag), nil
}

// s3Multipart uploads first and then rest in parts, with at most b.conc parts
// in flight (each holding one part-sized buffer), and completes the upload
// with the write's conditions. Any failure aborts the upload.
func (d *s3Driver) multipart(ctx context.Context, w s3Write, first []byte, rest io.Reader) (string, int64, error) {
	b := d.b
	partSize := b.part
	if w.o.Size > 0 {
		if need := (w.o.Size + maxParts - 1) / maxParts; need > partSize {
			partSize = (need + 1<<20 - 1) &^ (1<<20 - 1) // round up to MiB
		}
	}
	b.stats.add(KindPut, 1)
	created, err := d.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:          aws.String(d.name),
		Key:             aws.String(w.key),
		ContentType:     aws.String(w.contentType),
		CacheControl:    optString(w.o.CacheControl),
		ContentEncoding: optString(w.o.ContentEncoding),
		Metadata:        w.md,
	})
	if err != nil {
		return "", 0, fmt.Errorf("CreateMultipartUpload: %w", err)
	}
	uploadID := created.UploadId
	abort := func(cause error) (string, int64, error) {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, aerr := d.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(d.name), Key: aws.String(w.key), UploadId: uploadID,
		})
		if aerr != nil {
			b.log.Warn("abort multipart upload failed", "key", w.key, "error", aerr)
		}
		return "", 0, cause
	}
	parts, size, err := d.uploadParts(ctx, w.key, uploadID, partSize, first, rest)
	if err != nil {
		return abort(err)
	}
	ifMatch, ifNoneMatch := conditions(w.o)
	done, err := d.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(d.name),
		Key:             aws.String(w.key),
		UploadId:        uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		IfMatch:         ifMatch,
		IfNoneMatch:     ifNoneMatch,
	})
	if err != nil {
		return abort(fmt.Errorf("CompleteMultipartUpload: %w", err))
	}
	return aws.ToString(done.ETag), size, nil
}

// uploadParts reads rest part by part and uploads the parts concurrently. It
// returns the completed parts in order and the total size.
func (d *s3Driver) uploadParts(ctx context.Context, key string, uploadID *string, partSize int64,
	first []byte, rest io.Reader) ([]types.CompletedPart, int64, error) {
	b := d.b
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu    sync.Mutex
		parts []types.CompletedPart
		wg    sync.WaitGroup
	)
	free := make(chan []byte, b.conc) // recycled part buffers
	slots := make(chan struct{}, b.conc)
	upload := func(num int32, body []byte, recycle bool) {
		defer wg.Done()
		defer func() { <-slots }()
		if recycle {
			defer func() { free <- body[:cap(body)] }()
		}
		b.stats.add(KindMultipartPart, 1)
		out, err := d.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(d.name), Key: aws.String(key), UploadId: uploadID,
			PartNumber: aws.Int32(num), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
		})
		if err != nil {
			cancel(fmt.Errorf("UploadPart %d: %w", num, err))
			return
		}
		mu.Lock()
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
		mu.Unlock()
	}
	size := int64(len(first))
	slots <- struct{}{}
	wg.Add(1)
	go upload(1, first, false)
	allocated := 0
	var readErr error
	for num := int32(2); ; num++ {
		if num > maxParts {
			readErr = fmt.Errorf("body needs more than %d parts of %d bytes; pass PutOptions.Size", maxParts, partSize)
			break
		}
		var buf []byte
		select {
		case buf = <-free:
		default:
			if allocated < b.conc {
				allocated++
				buf = make([]byte, partSize)
			} else {
				select {
				case buf = <-free:
				case <-ctx.Done():
				}
			}
		}
		if buf == nil {
			break // an upload failed; the cause is in ctx
		}
		n, err := io.ReadFull(rest, buf[:partSize])
		if n > 0 {
			size += int64(n)
			select {
			case slots <- struct{}{}:
				wg.Add(1)
				go upload(num, buf[:n], true)
			case <-ctx.Done():
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("read body: %w", err)
			break
		}
		if ctx.Err() != nil {
			break
		}
	}
	wg.Wait()
	if readErr != nil {
		return nil, 0, readErr
	}
	if err := context.Cause(ctx); err != nil {
		return nil, 0, err
	}
	sort.Slice(parts, func(i, j int) bool { return *parts[i].PartNumber < *parts[j].PartNumber })
	return parts, size, nil
}
