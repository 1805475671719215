package source

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"hash/crc64"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Read retries. A download that fails while its body is read (a reset
// connection, a body that ends before its Content-Length) is resumed by
// asking for the same content again and skipping what was already handed
// on: GitHub's blob, archive and asset GETs are idempotent. The skipped
// bytes are checked against a CRC-64 of the bytes already handed on, so a
// second answer that differs from the first (a regenerated archive) fails
// instead of splicing two contents. Retries are bounded per stream and per
// run (ReadBudget), with the same backoff library as the GitHub client's
// request retries.

// Defaults for ReadBudget.
const (
	// DefaultReadRetries is how many cut reads one run resumes in all.
	DefaultReadRetries = 16
	// DefaultReadRetryBase is the first wait before a second resume of one stream.
	DefaultReadRetryBase = 500 * time.Millisecond
	// streamTries bounds the attempts for one stream (the first included).
	streamTries = 5
)

// ErrReadRetriesExhausted is matched by read errors once a stream could not
// be resumed within its budget.
var ErrReadRetriesExhausted = errors.New("read retries exhausted")

// ReadBudget bounds the read retries of one run. It is safe for concurrent
// use. A nil *ReadBudget allows no retry.
type ReadBudget struct {
	left atomic.Int64
	used atomic.Int64
	base time.Duration
	log  *slog.Logger
}

// NewReadBudget returns a budget of retries resumes (0 means
// DefaultReadRetries, negative none) waiting from base (0 means
// DefaultReadRetryBase) between attempts on one stream.
func NewReadBudget(retries int, base time.Duration, log *slog.Logger) *ReadBudget {
	switch {
	case retries == 0:
		retries = DefaultReadRetries
	case retries < 0:
		retries = 0
	}
	if base <= 0 {
		base = DefaultReadRetryBase
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &ReadBudget{base: base, log: log}
	b.left.Store(int64(retries))
	return b
}

// Used returns how many resumes were attempted.
func (b *ReadBudget) Used() int {
	if b == nil {
		return 0
	}
	return int(b.used.Load())
}

func (b *ReadBudget) take() bool {
	if b == nil || b.left.Add(-1) < 0 {
		return false
	}
	b.used.Add(1)
	return true
}

// resumingReader reads a body, resuming it through open when a read fails.
type resumingReader struct {
	ctx    context.Context
	what   string // for errors and logs, e.g. "blob README.md (sha)"
	open   func(ctx context.Context) (io.ReadCloser, error)
	rc     io.ReadCloser
	size   int64 // expected length; < 0 when unknown
	n      int64 // bytes handed on
	sum    hash.Hash64
	budget *ReadBudget
	bo     *backoff.ExponentialBackOff
	tries  int
	err    error // sticky
}

var crcTable = crc64.MakeTable(crc64.ECMA)

// newResumingReader reads rc, the first answer for what, and on a failed
// read asks open for the same content again. size is the content's length
// when known (a clean end before it counts as a cut), else -1.
func newResumingReader(ctx context.Context, what string, rc io.ReadCloser, size int64,
	open func(ctx context.Context) (io.ReadCloser, error), budget *ReadBudget) *resumingReader {
	return &resumingReader{ctx: ctx, what: what, open: open, rc: rc, size: size, sum: crc64.New(crcTable), budget: budget, tries: 1}
}

// openResuming opens what with open and returns it as a resumingReader.
func openResuming(ctx context.Context, what string, size int64, open func(ctx context.Context) (io.ReadCloser, error),
	budget *ReadBudget) (*resumingReader, error) {
	rc, err := open(ctx)
	if err != nil {
		return nil, err
	}
	return newResumingReader(ctx, what, rc, size, open, budget), nil
}

func (r *resumingReader) Read(p []byte) (int, error) {
	for {
		if r.err != nil {
			return 0, r.err
		}
		n, err := r.rc.Read(p)
		if n > 0 {
			r.n += int64(n)
			r.sum.Write(p[:n])
		}
		if err == nil || (err == io.EOF && (r.size < 0 || r.n >= r.size)) {
			return n, err
		}
		if err == io.EOF {
			err = fmt.Errorf("body ended after %d of %d bytes: %w", r.n, r.size, io.ErrUnexpectedEOF)
		}
		if r.ctx.Err() != nil {
			r.err = fmt.Errorf("read %s: %w", r.what, err)
			return n, r.err
		}
		if rerr := r.resume(err); rerr != nil {
			r.err = rerr
			return n, rerr
		}
		if n > 0 {
			return n, nil
		}
	}
}

// resume replaces the failed body by a new answer positioned after the r.n
// bytes already handed on.
func (r *resumingReader) resume(cause error) error {
	_ = r.rc.Close()
	r.rc = io.NopCloser(eofReader{})
	if r.tries >= streamTries {
		return fmt.Errorf("read %s: %w after %d attempts: %w", r.what, ErrReadRetriesExhausted, r.tries, cause)
	}
	if r.bo == nil {
		r.bo = r.budget.backOff()
	} else {
		// Cut again after a resume that worked: wait before asking again,
		// longer each time, as between the attempts of one resume.
		t := time.NewTimer(r.bo.NextBackOff())
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			return fmt.Errorf("read %s: %w", r.what, r.ctx.Err())
		}
	}
	want := r.sum.Sum64()
	last := cause
	rc, err := backoff.Retry(r.ctx, func() (io.ReadCloser, error) {
		if r.tries >= streamTries || !r.budget.take() {
			return nil, backoff.Permanent(fmt.Errorf("%w after %d attempts: %w", ErrReadRetriesExhausted, r.tries, last))
		}
		r.tries++
		r.budget.logger().Warn("download cut, resuming", "what", r.what, "offset", r.n, "attempt", r.tries, "error", last.Error())
		rc, err := r.open(r.ctx)
		if err != nil { // the client has retried the request itself
			return nil, backoff.Permanent(err)
		}
		h := crc64.New(crcTable)
		if k, err := io.CopyN(h, rc, r.n); err != nil {
			_ = rc.Close()
			last = fmt.Errorf("skipping the %d bytes already read: got %d: %w", r.n, k, err)
			return nil, last
		}
		if h.Sum64() != want {
			_ = rc.Close()
			return nil, backoff.Permanent(fmt.Errorf("the content changed between two answers (its first %d bytes differ); the cut was: %w", r.n, cause))
		}
		return rc, nil
	}, backoff.WithBackOff(r.budget.backOff()), backoff.WithMaxElapsedTime(0))
	if err != nil {
		return fmt.Errorf("read %s: %w", r.what, err)
	}
	r.rc = rc
	return nil
}

// Close closes the current body.
func (r *resumingReader) Close() error { return r.rc.Close() }

// backOff returns a new exponential backoff (as the GitHub client's
// request retries use) starting at the budget's base.
func (b *ReadBudget) backOff() *backoff.ExponentialBackOff {
	base := DefaultReadRetryBase
	if b != nil {
		base = b.base
	}
	return &backoff.ExponentialBackOff{InitialInterval: base, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: 30 * time.Second}
}

func (b *ReadBudget) logger() *slog.Logger {
	if b == nil {
		return slog.New(slog.DiscardHandler)
	}
	return b.log
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
