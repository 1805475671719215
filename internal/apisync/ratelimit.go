package apisync

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultAirtableRate is the pace kept per Airtable base: below the API's 5
// requests per second, with room for timing jitter between client and server.
const DefaultAirtableRate = 4.0

// tokenRateFactor: Airtable also limits a token to 50 requests per second
// across bases; a token is paced at 10 times the base pace, at most 45/s.
const (
	tokenRateFactor = 10
	maxTokenRate    = 45.0
)

// RateLimiters holds one limiter per key (an Airtable base on one API root),
// shared by every job of the process that uses that key. Create one per
// process with [NewRateLimiters] and pass it to every run; it is safe for
// concurrent use.
type RateLimiters struct {
	perSecond float64
	mu        sync.Mutex
	m         map[string]*limiter
}

type limiter struct {
	lim     *rate.Limiter
	mu      sync.Mutex
	penalty time.Time // no request before this (after a 429)
}

// NewRateLimiters returns limiters pacing each key at perSecond requests per
// second, one request at a time (burst 1). perSecond <= 0 means
// [DefaultAirtableRate]; math.Inf(1) disables the pacing (benchmarks).
func NewRateLimiters(perSecond float64) *RateLimiters {
	if perSecond <= 0 {
		perSecond = DefaultAirtableRate
	}
	return &RateLimiters{perSecond: perSecond, m: map[string]*limiter{}}
}

func (r *RateLimiters) get(key string) *limiter { return r.getRate(key, r.perSecond, 1) }

func (r *RateLimiters) getRate(key string, perSecond float64, burst int) *limiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.m[key]
	if !ok {
		l = &limiter{lim: rate.NewLimiter(rate.Limit(perSecond), burst)}
		r.m[key] = l
	}
	return l
}

// waitToken paces requests made with one credential (identified by a
// fingerprint, never the credential itself) across every base.
func (r *RateLimiters) waitToken(ctx context.Context, fingerprint string) error {
	perSecond := min(r.perSecond*tokenRateFactor, maxTokenRate)
	if math.IsInf(r.perSecond, 1) {
		perSecond = r.perSecond
	}
	return r.getRate("token:"+fingerprint, perSecond, 1).lim.Wait(ctx)
}

// wait blocks until a request on key may be sent: first until any penalty set
// by a 429 has passed (slept once with sleep, so that tests can inject it),
// then for the pace.
func (r *RateLimiters) wait(ctx context.Context, key string, now func() time.Time, sleep func(context.Context, time.Duration) error) error {
	l := r.get(key)
	l.mu.Lock()
	until := l.penalty
	l.mu.Unlock()
	if d := until.Sub(now()); d > 0 {
		if err := sleep(ctx, d); err != nil {
			return err
		}
		// The penalty has been waited out (by the injected clock's measure);
		// a later 429 sets a new one.
		l.mu.Lock()
		if l.penalty.Equal(until) {
			l.penalty = time.Time{}
		}
		l.mu.Unlock()
	}
	return l.lim.Wait(ctx)
}

// penalize holds every request on key until the given time (the API's penalty
// after a 429 applies to the whole base, so every job on it waits).
func (r *RateLimiters) penalize(key string, until time.Time) {
	l := r.get(key)
	l.mu.Lock()
	if until.After(l.penalty) {
		l.penalty = until
	}
	l.mu.Unlock()
}
