package inbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// claimKeeper renews the claim a run holds on a set every lease/3 while the
// run checks and acts (a huge file, a slow GitHub or SMTP server may take
// longer than the lease), so that no other run takes the set over from a
// live run. When a renewal finds the claim lost (another run took the set
// after a lease ran out unrenewed) or the lease runs out without a
// renewal, it cancels the run's context with a cause that wraps
// ErrClaimLost: the run starts no further action (alive fails) and reports
// the error.
type claimKeeper struct {
	deps        *Deps
	job, prefix string

	mu   sync.Mutex
	hold *Hold

	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}
}

// keepClaim starts renewing hold and returns the keeper and the run's
// context for checking and acting, cancelled when the claim is lost. Call
// finish before recording the outcome with the hold it returns.
func keepClaim(ctx context.Context, deps *Deps, job, prefix string, hold *Hold) *claimKeeper {
	k := &claimKeeper{deps: deps, job: job, prefix: prefix, hold: hold, stop: make(chan struct{}), done: make(chan struct{})}
	k.ctx, k.cancel = context.WithCancelCause(ctx)
	go k.run()
	return k
}

func (k *claimKeeper) run() {
	defer close(k.done)
	every := max(k.deps.ClaimLease/3, time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-k.ctx.Done():
			return
		case <-t.C:
		}
		if err := k.renew(); err != nil {
			k.cancel(err)
			return
		}
	}
}

// renew extends the claim once. A failure other than a lost claim (the
// ledger unreachable) is logged and tried again at the next tick, unless
// the lease has run out meanwhile: then the claim counts as lost.
func (k *claimKeeper) renew() error {
	h := k.current()
	nh, err := k.deps.Ledger.Renew(k.ctx, k.job, k.prefix, h, k.deps.Now().Add(k.deps.ClaimLease))
	switch {
	case err == nil:
		k.mu.Lock()
		k.hold = nh
		k.mu.Unlock()
		return nil
	case errors.Is(err, ErrClaimLost):
		return fmt.Errorf("inbox %s: set %s: %w", k.job, k.prefix, err)
	case k.ctx.Err() != nil:
		return nil // the run ended or was cancelled: run() returns
	case !k.deps.Now().Before(h.Until):
		return fmt.Errorf("inbox %s: set %s: the claim could not be renewed before its lease ran out at %s (%v): %w",
			k.job, k.prefix, h.Until.UTC().Format(time.RFC3339), err, ErrClaimLost)
	}
	k.deps.Logger.Warn("inbox: could not renew the set's claim; trying again", "job", k.job, "set", k.prefix,
		"error", err, "until", h.Until)
	return nil
}

// current is the hold as last renewed.
func (k *claimKeeper) current() *Hold {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.hold
}

// alive returns nil while the run may start an action: its claim was not
// found lost and its lease, as last renewed, has not run out.
func (k *claimKeeper) alive() error {
	if k == nil {
		return nil // no claim: no ledger, or a dry run
	}
	if k.ctx.Err() != nil {
		return context.Cause(k.ctx)
	}
	if h := k.current(); !k.deps.Now().Before(h.Until) {
		err := fmt.Errorf("inbox %s: set %s: the claim's lease ran out at %s without a renewal: %w",
			k.job, k.prefix, h.Until.UTC().Format(time.RFC3339), ErrClaimLost)
		k.cancel(err)
		return err
	}
	return nil
}

// finish stops the renewals and returns the hold as last renewed, and the
// cause when the claim was lost (nil otherwise).
func (k *claimKeeper) finish() (*Hold, error) {
	close(k.stop)
	<-k.done
	var lost error
	if err := k.alive(); errors.Is(err, ErrClaimLost) {
		lost = err
	}
	k.cancel(nil)
	return k.current(), lost
}
