package inbox

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"
)

// DefaultClaimLease is how long a run holds the set it claimed when
// Deps.ClaimLease is not set: longer than a run acting on one set takes
// (a Lambda invocation lasts at most 15 minutes), so a live run never loses
// its claim, and short enough that the set of a run that crashed is taken up
// again by a later poll or event.
const DefaultClaimLease = 15 * time.Minute

// ErrClaimLost is matched by the error of a Put whose run no longer holds
// the set: its lease expired and another run claimed the set. Nothing was
// recorded (the other run's record stands).
var ErrClaimLost = errors.New("the set's claim was lost (lease expired and another run claimed the set)")

// Claim asks for a set: Owner (one id per run) holds it until Until.
type Claim struct {
	Owner string
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
func newClaim(deps *Deps) Claim {
	var b [8]byte
	_, _ = rand.Read(b[:])
	host, _ := os.Hostname()
	now := deps.Now()
	return Claim{Owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:])), Now: now,
		Until: now.Add(deps.ClaimLease)}
}

// unchanged reports whether rec says the content fingerprint was processed
// completely (fingerprint "" matches nothing: a run by hand).
func unchanged(rec LedgerRecord, found bool, fingerprint string) bool {
	return found && fingerprint != "" && rec.Complete && rec.Fingerprint == fingerprint
}
