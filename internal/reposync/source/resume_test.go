package source

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// cutBody yields data[:keep] and then fails with err.
type cutBody struct {
	r   io.Reader
	err error
}

func (c *cutBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		return n, c.err
	}
	return n, err
}
func (c *cutBody) Close() error { return nil }

// answers returns an open func serving bodies[i] on the i-th call (the last
// one again after that) and counting the calls.
func answers(bodies ...io.ReadCloser) (func(context.Context) (io.ReadCloser, error), *int) {
	n := 0
	return func(context.Context) (io.ReadCloser, error) {
		b := bodies[min(n, len(bodies)-1)]
		n++
		return b, nil
	}, &n
}

func TestResumingReader(t *testing.T) {
	ctx := context.Background()
	data := strings.Repeat("0123456789", 100)
	cut := func(keep int, err error) io.ReadCloser {
		return &cutBody{r: strings.NewReader(data[:keep]), err: err}
	}
	whole := func() io.ReadCloser { return io.NopCloser(strings.NewReader(data)) }

	t.Run("cut then reset then whole", func(t *testing.T) {
		open, calls := answers(cut(121, io.ErrUnexpectedEOF), cut(300, errors.New("connection reset by peer")), whole())
		b := NewReadBudget(0, time.Millisecond, nil)
		r, err := openResuming(ctx, "blob x", int64(len(data)), open, b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || string(got) != data {
			t.Fatalf("read %d bytes, %v; want the whole %d", len(got), err, len(data))
		}
		if *calls != 3 || b.Used() != 2 {
			t.Fatalf("%d requests, %d resumes; want 3, 2", *calls, b.Used())
		}
	})
	t.Run("clean end before the known size is a cut", func(t *testing.T) {
		open, _ := answers(cut(500, io.EOF), whole())
		r, _ := openResuming(ctx, "blob x", int64(len(data)), open, NewReadBudget(0, time.Millisecond, nil))
		if got, err := io.ReadAll(r); err != nil || string(got) != data {
			t.Fatalf("read %d bytes, %v", len(got), err)
		}
	})
	t.Run("a different second answer is not spliced", func(t *testing.T) {
		other := []byte(data)
		other[10] = 'X'
		open, _ := answers(cut(121, io.ErrUnexpectedEOF), io.NopCloser(bytes.NewReader(other)))
		r, _ := openResuming(ctx, "tarball x", -1, open, NewReadBudget(0, time.Millisecond, nil))
		if _, err := io.ReadAll(r); err == nil || !strings.Contains(err.Error(), "content changed") {
			t.Fatalf("err = %v, want content changed", err)
		}
	})
	t.Run("budget", func(t *testing.T) {
		open, calls := answers(cut(121, io.ErrUnexpectedEOF))
		b := NewReadBudget(3, time.Millisecond, nil)
		r, _ := openResuming(ctx, "blob x", int64(len(data)), open, b)
		_, err := io.ReadAll(r)
		if !errors.Is(err, ErrReadRetriesExhausted) || errors.Is(err, io.EOF) {
			t.Fatalf("err = %v, want retries exhausted", err)
		}
		if *calls != 4 || b.Used() != 3 {
			t.Fatalf("%d requests, %d resumes; want 4 (1 + the budget of 3)", *calls, b.Used())
		}
		r, _ = openResuming(ctx, "blob y", int64(len(data)), open, b)
		if _, err := io.ReadAll(r); !errors.Is(err, ErrReadRetriesExhausted) || *calls != 5 {
			t.Fatalf("with the run's budget spent: %v after %d requests; want no resume", err, *calls)
		}
	})
	t.Run("none", func(t *testing.T) {
		open, calls := answers(cut(121, io.ErrUnexpectedEOF))
		r, _ := openResuming(ctx, "blob x", int64(len(data)), open, NewReadBudget(-1, 0, nil))
		if _, err := io.ReadAll(r); err == nil || *calls != 1 {
			t.Fatalf("err %v after %d requests; want a failure after 1", err, *calls)
		}
	})
}
