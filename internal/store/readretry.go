package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Bucket.Read's retry of a cut body.
//
// A read is two phases: the request, answered by a status and headers, and
// then the body. The request phase is retried by each network driver's own
// client (the AWS SDK's standard retryer for s3://, gcsRetryTransport for
// gs://, azcore's retry policy for azblob://): dropped connections, 5xx,
// 429. None of them sees the body phase: the answer was already handed to
// the driver, which reads the body itself, so a connection cut or reset
// while the bytes arrive surfaced as the read's failure. Bucket.Read retries
// exactly that phase (bodyReadError), and nothing else, so no failure is
// retried twice and no answer of the store (404, 412, 403, …) is retried.
const (
	// readTries bounds the attempts of one Bucket.Read whose body is cut
	// (the first included), as gitTries bounds a git read.
	readTries = 4
	// readPause is the pause before the second attempt, doubled before each
	// next one (±25%), as gcsRetryTransport's.
	readPause = 100 * time.Millisecond
)

// bodyReadError marks a failure while the body of a successful read's answer
// arrived (the store had answered 200; not all the bytes came): a broken
// network, never an answer of the store. Drivers return it through readBody.
type bodyReadError struct{ err error }

func (e *bodyReadError) Error() string { return e.err.Error() }
func (e *bodyReadError) Unwrap() error { return e.err }

// readBody reads the whole body of a small object's answer: at most maxRead+1
// bytes (Bucket.Read refuses more). declared is the length the answer
// declared (Content-Length; < 0 when unknown): a body that ends before it
// fails like a cut one. Every failure is a *bodyReadError and comes without
// data: never part of a body.
func readBody(r io.Reader, declared int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRead+1))
	if err != nil {
		return nil, &bodyReadError{fmt.Errorf("body cut after %d bytes: %w", len(data), err)}
	}
	if declared >= 0 && int64(len(data)) < declared && len(data) <= maxRead {
		return nil, &bodyReadError{fmt.Errorf("body ended after %d of its %d bytes: %w", len(data), declared, io.ErrUnexpectedEOF)}
	}
	return data, nil
}

// readPolicy is how often and how soon retryRead reads again.
type readPolicy struct {
	tries uint          // attempts in all, the first included
	pause time.Duration // before the second attempt; doubled each time
}

// defaultReadPolicy is Bucket.Read's.
func defaultReadPolicy() readPolicy { return readPolicy{tries: readTries, pause: readPause} }

// retryRead calls read (one attempt at a small object, key for the logs)
// until it returns the data or a final error. Only a *bodyReadError is
// retried, while ctx is live, at most p.tries attempts in all, after a
// growing pause from the project's backoff library; each retry is logged
// at warn level. Any other error is returned at once, unchanged. The data
// returned is always one attempt's whole body.
func retryRead(ctx context.Context, log *slog.Logger, key string, p readPolicy,
	read func() ([]byte, string, error)) ([]byte, string, error) {
	type result struct {
		data []byte
		etag string
	}
	attempt := uint(0)
	res, err := backoff.Retry(ctx, func() (result, error) {
		attempt++
		data, etag, err := read()
		if err == nil {
			return result{data, etag}, nil
		}
		var be *bodyReadError
		if !errors.As(err, &be) || ctx.Err() != nil {
			return result{}, backoff.Permanent(err)
		}
		return result{}, err
	}, backoff.WithBackOff(&backoff.ExponentialBackOff{InitialInterval: p.pause, RandomizationFactor: 0.25,
		Multiplier: 2, MaxInterval: 30 * time.Second}),
		backoff.WithMaxTries(p.tries), backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, next time.Duration) {
			log.Warn("read: body cut, reading again", "key", key, "attempt", attempt, "pause", next, "error", err.Error())
		}))
	if err != nil {
		var pe *backoff.PermanentError // the last attempt's, returned as is by Retry
		if errors.As(err, &pe) {
			err = pe.Unwrap()
		}
		var be *bodyReadError
		if attempt > 1 && errors.As(err, &be) {
			return nil, "", fmt.Errorf("%w (%d attempts)", err, attempt)
		}
		return nil, "", err
	}
	return res.data, res.etag, nil
}
