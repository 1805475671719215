package jobs

import (
	"errors"
	"fmt"
)

// ErrUsage marks errors caused by bad input or configuration (exit code 2;
// not retried by the scheduler). Test with errors.Is(err, ErrUsage).
var ErrUsage = errors.New("usage error")

// UsageError is an error caused by bad input or configuration. It matches
// ErrUsage with errors.Is, and unwraps to its cause.
type UsageError struct {
	// Err is the cause; its message is the whole message.
	Err error
}

func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *UsageError) Unwrap() error { return e.Err }

// Is reports whether target is ErrUsage.
func (e *UsageError) Is(target error) bool { return target == ErrUsage }

// Usage marks err as a usage error (nil stays nil).
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return &UsageError{Err: err}
}

// Usagef returns a usage error with a formatted message (%w keeps a cause).
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}
