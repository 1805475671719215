package inbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ghsync/ghsync/internal/store"
)

// DefaultClaimLease is how long a claim lasts unrenewed when
// Deps.ClaimLease is not set. A live run renews its claim every third of the
// lease while it acts (claimKeeper), so however long it takes it keeps the
// set; the lease bounds how long the set of a run that crashed waits for a
// later poll or event.
const DefaultClaimLease = 15 * time.Minute

// DefaultClaimWait is how long an event's run waits, when Deps.ClaimWait is
// not set, for a run processing other content of its set (listed before the
// event's file arrived) to finish, before it fails so the event is delivered
// again.
const DefaultClaimWait = time.Minute

// ErrClaimLost is matched by the error of a Put whose run no longer holds
// the set: its lease expired and another run claimed the set. Nothing was
// recorded (the other run's record stands).
var ErrClaimLost = errors.New("the set's claim was lost (lease expired and another run claimed the set)")

// Claim asks for a set: Owner (one id per run) holds it until Until, to
// process the content Fingerprint.
type Claim struct {
	Owner       string
	Fingerprint string
	// Now is the claimer's clock: a claim whose Until is not after Now is
	// expired (its run crashed) and may be taken over.
	Now, Until time.Time
}

// Hold is a claim a run holds: given back to Put (which records the outcome
// and frees the set) or Release.
type Hold struct {
	Owner string
	Until time.Time
	// etag is the store ledger's record as the claim wrote it: Put and
	// Release write on that condition.
	etag string
}

// ClaimResult is the outcome of Ledger.Claim.
type ClaimResult struct {
	// Claimed: the caller holds the set (Hold) and Record / Found are the
	// set's record as the claim found it.
	Claimed bool
	Hold    *Hold
	Record  LedgerRecord
	Found   bool
	// Busy: another run holds an unexpired claim on the set, until
	// Holder.Until; the caller must not act on the set.
	Busy   bool
	Holder Claim
	// When neither Claimed nor Busy, the set is recorded complete with the
	// fingerprint asked for (Record): there is nothing to do.
}

// newClaim returns a claim for one run: a random owner id (with the host
// and process, for people reading a record) and the lease from now.
func newClaim(deps *Deps, fingerprint string) Claim {
	var b [8]byte
	_, _ = rand.Read(b[:])
	host, _ := os.Hostname()
	now := deps.Now()
	return Claim{Owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:])), Fingerprint: fingerprint,
		Now: now, Until: now.Add(deps.ClaimLease)}
}

// unchanged reports whether rec says the content fingerprint was processed
// completely (fingerprint "" matches nothing: a run by hand).
func unchanged(rec LedgerRecord, found bool, fingerprint string) bool {
	return found && fingerprint != "" && rec.Complete && rec.Fingerprint == fingerprint
}

// processWaiting processes the set at prefix as j.process does, and while
// another run holds the set for other content than this run listed (it
// listed the set before this event's file arrived, or after a newer one),
// waits for it with backoff, lists the set again and retries, up to
// deps.ClaimWait; then it fails, naming the set, so the event is delivered
// again. A set claimed for the same content is left to its holder at once.
func (j *job) processWaiting(ctx context.Context, deps *Deps, prefix string, segs map[string]string,
	objs []store.Object, opts RunOptions) (*Result, error) {
	res, err := j.process(ctx, deps, prefix, segs, objs, opts)
	deadline := time.Now().Add(deps.ClaimWait)
	pause := 100 * time.Millisecond
	for err == nil && res != nil && res.busyOther {
		if !time.Now().Add(pause).Before(deadline) {
			err = fmt.Errorf("inbox %s: set %s is being processed by another run for other content of the set (claimed until %s); "+
				"waited %s: not processed by this run, the next delivery of the event or poll processes it",
				j.cfg.Name, prefix, res.BusyUntil.UTC().Format(time.RFC3339), deps.ClaimWait)
			res.Errors = append(res.Errors, err.Error())
			return res, err
		}
		deps.Logger.Info("inbox: set being processed by another run for other content; waiting for it",
			"job", j.cfg.Name, "set", prefix, "pause", pause)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, fmt.Errorf("inbox %s: set %s: waiting for another run: %w", j.cfg.Name, prefix, context.Cause(ctx))
		case <-t.C:
		}
		pause = min(2*pause, 2*time.Second)
		if objs, err = j.listSet(ctx, deps, prefix); err != nil {
			return res, err
		}
		res, err = j.process(ctx, deps, prefix, segs, objs, opts)
	}
	return res, err
}

// admit consults the ledger before a run acts on the set at prefix, whose
// listed content res.Fingerprint holds. A dry run only reads the record. Any
// other run claims the set: stop is true when it must not act — the set is
// recorded complete with this content (res.Skipped, for automatic runs), or
// another run holds it (res.Busy; an error for a run by hand). Otherwise the
// run holds the set (hold) and prev is the record of an earlier run of this
// very content with actions left to retry (nil: process in full).
func (j *job) admit(ctx context.Context, deps *Deps, res *Result, prefix string, files int,
	opts RunOptions) (prev *LedgerRecord, hold *Hold, stop bool, err error) {
	cfg := j.cfg
	log := deps.Logger.With("job", cfg.Name, "set", prefix)
	skip := func(rec LedgerRecord) (*LedgerRecord, *Hold, bool, error) {
		res.Skipped, res.Attempt, res.complete = true, rec.Attempts, true
		if rec.GaveUp() {
			res.GaveUp, res.FailedActions = true, rec.Failed
		}
		log.Debug("inbox: set unchanged since processed", "files", files, "gave_up", res.GaveUp)
		return nil, nil, true, nil
	}
	fail := func(err error) (*LedgerRecord, *Hold, bool, error) {
		res.Errors = append(res.Errors, err.Error())
		return nil, nil, true, err
	}
	switch {
	case deps.Ledger == nil:
		return nil, nil, false, nil
	case opts.DryRun:
		// Acts on nothing, so claims nothing: it shows what a run would do.
		if !opts.SkipUnchanged {
			return nil, nil, false, nil
		}
		rec, found, err := deps.Ledger.Get(ctx, cfg.Name, prefix)
		if err != nil {
			return fail(err)
		}
		if unchanged(rec, found, res.Fingerprint) {
			return skip(rec)
		}
		if found && rec.Fingerprint == res.Fingerprint {
			return &rec, nil, false, nil
		}
		return nil, nil, false, nil
	}
	fp := res.Fingerprint
	if !opts.SkipUnchanged {
		fp = "" // by hand: whatever the record says, but never alongside another run
	}
	cr, err := deps.Ledger.Claim(ctx, cfg.Name, prefix, fp, newClaim(deps, res.Fingerprint))
	if err != nil {
		return fail(err)
	}
	switch {
	case cr.Busy:
		res.Busy, res.BusyUntil = true, cr.Holder.Until
		res.busyOther = cr.Holder.Fingerprint != res.Fingerprint
		log.Info("inbox: set being processed by another run: nothing done here",
			"files", files, "claimed_by", cr.Holder.Owner, "claimed_until", cr.Holder.Until)
		if !opts.SkipUnchanged {
			return fail(fmt.Errorf("inbox %s: set %s is being processed by another run (claimed until %s); try again after that",
				cfg.Name, prefix, cr.Holder.Until.UTC().Format(time.RFC3339)))
		}
		return nil, nil, true, nil
	case !cr.Claimed:
		return skip(cr.Record)
	}
	if opts.SkipUnchanged && cr.Found && cr.Record.Fingerprint == res.Fingerprint {
		prev = &cr.Record
	}
	return prev, cr.Hold, false, nil
}
