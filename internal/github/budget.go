package github

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a RetryBudget.
const (
	// DefaultRunRetries is how many requests a run may resend after a
	// failure (plus one per ten requests GitHub answered).
	DefaultRunRetries = 10
	// DefaultRunRetryTime bounds a streak of failures: once requests have
	// failed for this long with no answer in between, nothing is retried.
	DefaultRunRetryTime = 15 * time.Second
)

// RetryBudget is the retries of one run, shared by every layer that retries
// GitHub requests: the transport under every Client request (network errors,
// 5xx), the GraphQL layer of status snapshots ("Something went wrong"
// answers), read retries. Layers stacked on each other therefore add up
// instead of multiplying: against an unreachable GitHub a run makes at most
// 1 + MaxRetries requests per failing request chain and stops retrying
// MaxTime after the first failure, however many layers retry.
//
// A retry is allowed while (1) the run has resent fewer than MaxRetries
// requests plus one per ten answered ones (so a long run survives scattered
// faults), and (2) the wait before it would still end within MaxTime of the
// first failure since the last answer. Each request still has its own cap
// (Config.MaxRetries). Carry a budget in the run's context with
// WithRetryBudget; without one, only the per-request cap applies. It is
// safe for concurrent use.
type RetryBudget struct {
	// MaxRetries (default DefaultRunRetries) and MaxTime (default
	// DefaultRunRetryTime); set before first use.
	MaxRetries int
	MaxTime    time.Duration

	attempts atomic.Int64

	mu           sync.Mutex
	retries      int
	answered     int
	failingSince time.Time
	spent        bool
}

// NewRetryBudget returns a budget with the default bounds.
func NewRetryBudget() *RetryBudget {
	return &RetryBudget{MaxRetries: DefaultRunRetries, MaxTime: DefaultRunRetryTime}
}

type budgetKey struct{}

// WithRetryBudget returns ctx carrying b: every request made with it (and
// every retry decision of the layers above) draws on b.
func WithRetryBudget(ctx context.Context, b *RetryBudget) context.Context {
	return context.WithValue(ctx, budgetKey{}, b)
}

// RetryBudgetFrom returns the budget ctx carries, or nil.
func RetryBudgetFrom(ctx context.Context) *RetryBudget {
	b, _ := ctx.Value(budgetKey{}).(*RetryBudget)
	return b
}

// EnsureRetryBudget returns ctx with a budget: the one it carries, or a new
// default one (for a run started without a runner).
func EnsureRetryBudget(ctx context.Context) (context.Context, *RetryBudget) {
	if b := RetryBudgetFrom(ctx); b != nil {
		return ctx, b
	}
	b := NewRetryBudget()
	return WithRetryBudget(ctx, b), b
}

// Attempts is the number of HTTP requests sent under the budget, every
// retry included.
func (b *RetryBudget) Attempts() int { return int(b.attempts.Load()) }

// Retries is the number of those that were resends after a failure.
func (b *RetryBudget) Retries() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.retries
}

// Spent reports whether the budget has refused a retry: layers that would
// otherwise try differently (a smaller query) stop instead.
func (b *RetryBudget) Spent() bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spent
}

// String describes the bounds, for messages.
func (b *RetryBudget) String() string {
	return fmt.Sprintf("%d retries, %s of failures per run", b.maxRetries(), b.maxTime())
}

func (b *RetryBudget) maxRetries() int {
	if b.MaxRetries <= 0 {
		return DefaultRunRetries
	}
	return b.MaxRetries
}

func (b *RetryBudget) maxTime() time.Duration {
	if b.MaxTime <= 0 {
		return DefaultRunRetryTime
	}
	return b.MaxTime
}

// sent records one HTTP request sent.
func (b *RetryBudget) sent() {
	if b != nil {
		b.attempts.Add(1)
	}
}

// answer records an answer that ends a failure streak (any status that is
// not retried).
func (b *RetryBudget) answer() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.answered++
	b.failingSince = time.Time{}
	b.mu.Unlock()
}

// Take asks to retry a failed request after waiting wait, at now. It
// records the failure (starting a streak) and, when the budget allows the
// retry, counts it and returns "". Otherwise it returns why not (for the
// error message) and marks the budget spent. A nil budget allows every
// retry.
func (b *RetryBudget) Take(now time.Time, wait time.Duration) (refused string) {
	if b == nil {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failingSince.IsZero() {
		b.failingSince = now
	}
	switch {
	case b.retries >= b.maxRetries()+b.answered/10:
		refused = fmt.Sprintf("the run's retry budget is spent (%d retries)", b.retries)
	case now.Add(wait).Sub(b.failingSince) > b.maxTime():
		refused = fmt.Sprintf("the run's retry budget is spent (failing for %s, at most %s)",
			now.Sub(b.failingSince).Round(time.Millisecond), b.maxTime())
	default:
		b.retries++
		return ""
	}
	b.spent = true
	return refused
}

// TakeRetry is Take on the budget ctx carries, at the current time; ok
// without one.
func TakeRetry(ctx context.Context, wait time.Duration) (refused string) {
	return RetryBudgetFrom(ctx).Take(time.Now(), wait)
}

type attemptsKey struct{}

// WithAttemptCounter returns ctx under which the transport adds one to n
// for every HTTP request it sends (retries included), so a caller can
// report the requests its calls really made.
func WithAttemptCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, attemptsKey{}, n)
}

func countAttempt(ctx context.Context) {
	if n, ok := ctx.Value(attemptsKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
}
