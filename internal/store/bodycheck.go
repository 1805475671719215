package store

import (
	"errors"
	"fmt"
	"io"
)

// ErrBodySize is matched (errors.Is) by errors from a Put whose body held
// fewer or more bytes than PutOptions.Size declared. Nothing was written:
// the write was abandoned (the multipart upload aborted) before the object
// became visible, and an object already at the key is left as it was.
var ErrBodySize = errors.New("body size differs from the declared size")

// ErrBodyCut is matched (errors.Is) by errors from a Put whose body ended
// with an error while it was read, including a body that ended before its
// own declared length (io.ErrUnexpectedEOF from an HTTP body). Nothing was
// written.
var ErrBodyCut = errors.New("body read failed")

// checkedBody is the one gate every Put body goes through before a driver
// reads it. It turns every way a body can go wrong into an error the
// drivers cannot take for the end of the body:
//
//   - a read error, io.ErrUnexpectedEOF included (what net/http returns when
//     a connection closes before Content-Length bytes arrived), is returned
//     as an error matching ErrBodyCut and not io.ErrUnexpectedEOF, because
//     the drivers read with io.ReadFull, whose io.ErrUnexpectedEOF means "the
//     body ended within this part";
//   - with a declared size (want >= 0) a body that goes past it fails at the
//     read that passes it, and one that ends short fails instead of
//     returning io.EOF; both match ErrBodySize.
//
// So a driver sees io.EOF only when the whole body, of the declared size,
// was read.
type checkedBody struct {
	r    io.Reader
	want int64 // declared size; < 0 when unknown
	n    int64
	err  error // sticky
}

func newCheckedBody(r io.Reader, want int64) *checkedBody {
	return &checkedBody{r: r, want: want}
}

func (c *checkedBody) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	switch {
	case c.want >= 0 && c.n > c.want:
		c.err = fmt.Errorf("%w: body goes on past the declared %d bytes", ErrBodySize, c.want)
		return n, c.err
	case err == nil:
		return n, nil
	case err == io.EOF:
		if c.want >= 0 && c.n < c.want {
			c.err = fmt.Errorf("%w: body ended after %d of the declared %d bytes", ErrBodySize, c.n, c.want)
			return n, c.err
		}
		c.err = io.EOF
		return n, io.EOF
	default:
		// %v, not %w, for the cause: errors.Is(err, io.ErrUnexpectedEOF)
		// must not hold, or a driver would take the cut for the body's end.
		c.err = &cutError{msg: fmt.Sprintf("%v after %d bytes: %v", ErrBodyCut, c.n, err), cause: err}
		return n, c.err
	}
}

// cutError is a read error that matches ErrBodyCut and keeps its cause for
// errors.As (a context error, a source's verification error) without
// matching io.ErrUnexpectedEOF or io.EOF.
type cutError struct {
	msg   string
	cause error
}

func (e *cutError) Error() string { return e.msg }

// Is reports target == ErrBodyCut, or what the cause matches other than the
// ends of a body.
func (e *cutError) Is(target error) bool {
	if target == ErrBodyCut {
		return true
	}
	if target == io.EOF || target == io.ErrUnexpectedEOF {
		return false
	}
	return errors.Is(e.cause, target)
}
