//go:build unix

package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
)

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

// lockFile takes an exclusive flock on the file at path (one object), polling
// so that ctx can cancel the wait, and returns the function that releases it
// and the file's stat. A writer that renames a new file into place while
// another waits makes the waiter's file stale: lockFile then locks the new
// one. The error matches fs.ErrNotExist when no regular file is at path.
func lockFile(ctx context.Context, path string) (func(), os.FileInfo, error) {
	for {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("lock %s: %w", path, err)
		}
		for {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			if err == nil || !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
				break
			}
			select {
			case <-ctx.Done():
				_ = f.Close()
				return nil, nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
			case <-time.After(time.Millisecond):
			}
		}
		if err != nil {
			_ = f.Close()
			return nil, nil, fmt.Errorf("lock %s: %w", path, err)
		}
		held, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			if !now.Mode().IsRegular() {
				_ = f.Close()
				return nil, nil, fmt.Errorf("lock %s: not a file: %w", path, fs.ErrNotExist)
			}
			return func() { _ = f.Close() }, now, nil // closing releases the flock
		}
		_ = f.Close()
		if err2 != nil {
			return nil, nil, fmt.Errorf("lock %s: %w", path, err2)
		}
	}
}
