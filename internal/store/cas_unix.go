//go:build unix

package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"gocloud.dev/blob"
)

// putFileCAS performs a conditional write on file://. An exclusive flock on
// the bucket's root directory (outside the key space, released by the kernel
// if the process dies) makes compare-and-write atomic across goroutines and
// processes that use this package. Unconditional writers do not take the lock.
func (b *Bucket) putFileCAS(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	unlock, err := lockDir(ctx, b.dir)
	if err != nil {
		return Object{}, err
	}
	defer unlock()
	cur, err := b.checkCondition(ctx, key, o)
	if err != nil {
		return Object{}, err
	}
	o.IfMatch, o.IfNoneMatch = "", false
	obj, err := b.putGeneric(ctx, key, r, o)
	if err != nil || cur == nil {
		return obj, err
	}
	return b.ensureNewETag(ctx, key, cur, obj)
}

// ensureNewETag makes sure a rewrite changed the ETag. The file driver's ETag
// is mtime+size, so a same-size rewrite within one filesystem timestamp tick
// would keep the old ETag and defeat the next If-Match; in that case the mtime
// is moved past the old one and the attributes are read again.
func (b *Bucket) ensureNewETag(ctx context.Context, key string, old *blob.Attributes, obj Object) (Object, error) {
	if normETag(obj.ETag) != normETag(old.ETag) {
		return obj, nil
	}
	path := filepath.Join(b.dir, filepath.FromSlash(b.full(key)))
	if err := os.Chtimes(path, time.Time{}, old.ModTime.Add(time.Millisecond)); err != nil {
		return Object{}, fmt.Errorf("bump mtime of %s: %w", path, err)
	}
	b.stats.add(KindHead, 1)
	a, err := b.view.Attributes(ctx, key)
	if err != nil {
		return Object{}, fmt.Errorf("read back attributes: %w", err)
	}
	return objectFromAttrs(key, a), nil
}

// lockDir takes an exclusive flock on dir, polling so that ctx can cancel the
// wait, and returns the function that releases it.
func lockDir(ctx context.Context, dir string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}
