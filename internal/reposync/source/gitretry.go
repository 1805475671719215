package source

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// gitTries bounds the attempts of one git remote operation (the first
// included): a ref listing, or a depth-1 clone into fresh memory storage.
// Both only read, so a new attempt is safe; a clone starts over.
const gitTries = 4

// retry runs op again when it failed in a way a new attempt may not (a
// connection cut or reset while the pack was read, a 5xx answer), at most
// gitTries times, waiting with the same backoff library the GitHub client
// uses between attempts. Other errors (authentication, a missing
// repository or ref, a cancelled context) are returned at once.
func (g *Git) retry(ctx context.Context, what string, op func() error) error {
	attempt := 0
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		attempt++
		err := op()
		if err == nil {
			return struct{}{}, nil
		}
		if ctx.Err() != nil || !transientGitErr(err) {
			return struct{}{}, backoff.Permanent(err)
		}
		if attempt < gitTries {
			g.log.Warn("git remote read failed, retrying", "source", g.desc, "what", what, "attempt", attempt, "error", err.Error())
		}
		return struct{}{}, err
	}, backoff.WithBackOff(&backoff.ExponentialBackOff{InitialInterval: g.retryBase, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: 30 * time.Second}),
		backoff.WithMaxTries(gitTries), backoff.WithMaxElapsedTime(0))
	return err
}

// transientGitErr reports whether a git transport error may go away on a
// new attempt. go-git does not always wrap the network error it met, so
// its text is looked at too.
func transientGitErr(err error) bool {
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrRepositoryNotFound), errors.Is(err, transport.ErrEmptyRemoteRepository),
		errors.Is(err, transport.ErrInvalidAuthMethod), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	var he *githttp.Err
	if errors.As(err, &he) {
		return he.StatusCode() >= 500 || he.StatusCode() == 429
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"unexpected EOF", "connection reset", "broken pipe"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
