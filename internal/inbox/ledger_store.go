package inbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ghsync/ghsync/internal/store"
)

// StoreLedger keeps the ledger as small JSON objects in a store, for
// runtimes without a database (Lambda): one object per set at
// .ghsync/inbox/JOB/SHA256(prefix).json. Put it in the watch store (the
// objects never fit a key pattern, and inbox processing ignores .ghsync/) or
// any other bucket the runtime may write.
//
// A claim is a field of the set's object, written with the store's
// conditional writes (If-None-Match for a set never recorded, If-Match on
// the ETag read otherwise; see store.Capabilities.CAS): of concurrent
// claimers exactly one write succeeds. Put and Release write on the ETag the
// claim wrote.
//
// Its poll index (Indexer) is a head object and immutable segments; see
// index_store.go.
type StoreLedger struct {
	Bucket *store.Bucket
	// IndexDelta bounds the entries of the poll index's head (0:
	// DefaultIndexDelta); beyond it the head's changes become a segment.
	IndexDelta int
	// Logger receives warnings about the poll index (nil: none).
	Logger *slog.Logger
}

// storeRecord is the JSON of one set. The fields after processed_at came
// with retries; a record written before them has none of them and means a
// complete set processed once, with nothing to retry.
type storeRecord struct {
	Prefix      string    `json:"prefix"`
	Fingerprint string    `json:"fingerprint"`
	Passed      bool      `json:"passed"`
	Files       int       `json:"files"`
	At          time.Time `json:"processed_at"`
	// Complete is nil in old records: complete.
	Complete *bool    `json:"complete,omitempty"`
	Attempts int      `json:"attempts,omitempty"`
	Done     []string `json:"done,omitempty"`
	Failed   []string `json:"failed,omitempty"`
	Issue    string   `json:"github_issue,omitempty"`
	// Claim is the run acting on the set, if any (see Ledger.Claim).
	Claim *storeClaim `json:"claim,omitempty"`
}

type storeClaim struct {
	Owner       string    `json:"owner"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	Until       time.Time `json:"until"`
}

// claimTries bounds the read-then-conditional-write rounds of one Claim: a
// failed condition means another run wrote the record meanwhile, and the
// next round sees its claim or its outcome.
const claimTries = 5

func ledgerKey(job, prefix string) string {
	sum := sha256.Sum256([]byte(prefix))
	return ".ghsync/inbox/" + job + "/" + hex.EncodeToString(sum[:]) + ".json"
}

// read returns the set's record, its claim and the object's ETag.
func (l StoreLedger) read(ctx context.Context, job, prefix string) (storeRecord, bool, string, error) {
	key := ledgerKey(job, prefix)
	b, etag, err := l.Bucket.Read(ctx, key)
	if errors.Is(err, store.ErrNotExist) {
		return storeRecord{}, false, "", nil
	}
	if err != nil {
		return storeRecord{}, false, "", fmt.Errorf("inbox ledger %s: read %s: %w", l.Bucket.URL(), prefix, err)
	}
	var r storeRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return storeRecord{}, false, "", fmt.Errorf("inbox ledger %s: decode %s (record of %s): %w", l.Bucket.URL(), key, prefix, err)
	}
	return r, true, etag, nil
}

func (r storeRecord) record() LedgerRecord {
	return LedgerRecord{Fingerprint: r.Fingerprint, Passed: r.Passed, Files: r.Files, At: r.At,
		Complete: r.Complete == nil || *r.Complete, Attempts: max(r.Attempts, 1), Done: r.Done, Failed: r.Failed, Issue: r.Issue}
}

func toStoreRecord(prefix string, rec LedgerRecord) storeRecord {
	complete := rec.Complete
	return storeRecord{Prefix: prefix, Fingerprint: rec.Fingerprint, Passed: rec.Passed, Files: rec.Files, At: rec.At.UTC(),
		Complete: &complete, Attempts: rec.Attempts, Done: rec.Done, Failed: rec.Failed, Issue: rec.Issue}
}

// Get implements Ledger. A set only claimed so far (never recorded) is not found.
func (l StoreLedger) Get(ctx context.Context, job, prefix string) (LedgerRecord, bool, error) {
	r, found, _, err := l.read(ctx, job, prefix)
	if err != nil || !found || r.placeholder() {
		return LedgerRecord{}, false, err
	}
	return r.record(), true, nil
}

// placeholder reports whether the object holds only a claim (written for a
// set never recorded).
func (r storeRecord) placeholder() bool {
	return r.Fingerprint == "" && r.Complete != nil && !*r.Complete && r.Attempts == 0
}

// write puts r at the set's key on the condition etag ("": the object must
// not exist) and returns the new ETag.
func (l StoreLedger) write(ctx context.Context, job string, r storeRecord, etag string) (string, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("inbox ledger %s: encode record of %s: %w", l.Bucket.URL(), r.Prefix, err)
	}
	po := store.PutOptions{ContentType: "application/json", IfMatch: etag, IfNoneMatch: etag == ""}
	o, err := l.Bucket.Put(ctx, ledgerKey(job, r.Prefix), bytes.NewReader(b), po)
	if err != nil {
		return "", err
	}
	return o.ETag, nil
}

// Claim implements Ledger.
func (l StoreLedger) Claim(ctx context.Context, job, prefix, fingerprint string, c Claim) (ClaimResult, error) {
	for range claimTries {
		r, found, etag, err := l.read(ctx, job, prefix)
		if err != nil {
			return ClaimResult{}, err
		}
		var rec LedgerRecord
		if found && !r.placeholder() {
			rec = r.record()
		} else {
			found = false
		}
		if unchanged(rec, found, fingerprint) {
			return ClaimResult{Record: rec, Found: true}, nil
		}
		if h := r.Claim; h != nil && h.Owner != c.Owner && h.Until.After(c.Now) {
			return ClaimResult{Busy: true, Holder: Claim{Owner: h.Owner, Fingerprint: h.Fingerprint, Until: h.Until}, Record: rec, Found: found}, nil
		}
		next := r
		if !found && etag == "" {
			f := false
			next = storeRecord{Prefix: prefix, At: c.Now.UTC(), Complete: &f}
		}
		next.Claim = &storeClaim{Owner: c.Owner, Fingerprint: c.Fingerprint, Until: c.Until.UTC()}
		newTag, err := l.write(ctx, job, next, etag)
		if errors.Is(err, store.ErrPreconditionFailed) {
			continue // another run wrote the record meanwhile: look again
		}
		if err != nil {
			return ClaimResult{}, fmt.Errorf("inbox ledger %s: claim %s: %w", l.Bucket.URL(), prefix, err)
		}
		return ClaimResult{Claimed: true, Hold: &Hold{Owner: c.Owner, Until: c.Until, etag: newTag}, Record: rec, Found: found}, nil
	}
	return ClaimResult{}, fmt.Errorf("inbox ledger %s: claim %s: the record changed under %d attempts in a row", l.Bucket.URL(), prefix, claimTries)
}

// Put implements Ledger.
func (l StoreLedger) Put(ctx context.Context, job, prefix string, rec LedgerRecord, hold *Hold) error {
	r := toStoreRecord(prefix, rec)
	if hold == nil {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("inbox ledger %s: encode record of %s: %w", l.Bucket.URL(), prefix, err)
		}
		if _, err := l.Bucket.Put(ctx, ledgerKey(job, prefix), bytes.NewReader(b), store.PutOptions{ContentType: "application/json"}); err != nil {
			return fmt.Errorf("inbox ledger %s: record %s: %w", l.Bucket.URL(), prefix, err)
		}
		return nil
	}
	if _, err := l.write(ctx, job, r, hold.etag); err != nil {
		if errors.Is(err, store.ErrPreconditionFailed) {
			err = fmt.Errorf("claim of %s until %s: %w", hold.Owner, hold.Until.UTC().Format(time.RFC3339), ErrClaimLost)
		}
		return fmt.Errorf("inbox ledger %s: record %s: %w", l.Bucket.URL(), prefix, err)
	}
	return nil
}

// Release implements Ledger: the record is written back without the claim,
// on the claim's ETag.
func (l StoreLedger) Release(ctx context.Context, job, prefix string, hold *Hold) error {
	if hold == nil {
		return nil
	}
	r, found, etag, err := l.read(ctx, job, prefix)
	if err != nil || !found || etag != hold.etag {
		return err // gone, or no longer our claim: nothing to free
	}
	r.Claim = nil
	if _, err := l.write(ctx, job, r, etag); err != nil && !errors.Is(err, store.ErrPreconditionFailed) {
		return fmt.Errorf("inbox ledger %s: release %s: %w", l.Bucket.URL(), prefix, err)
	}
	return nil
}

// Renew implements Ledger: the record as the hold's last write left it is
// written back with the claim's new end, on the hold's ETag (a failed
// condition: another run took the set, or recorded it).
func (l StoreLedger) Renew(ctx context.Context, job, prefix string, hold *Hold, until time.Time) (*Hold, error) {
	lost := func() (*Hold, error) {
		return nil, fmt.Errorf("inbox ledger %s: renew claim on %s (claim of %s until %s): %w", l.Bucket.URL(), prefix,
			hold.Owner, hold.Until.UTC().Format(time.RFC3339), ErrClaimLost)
	}
	r, found, etag, err := l.read(ctx, job, prefix)
	if err != nil {
		return nil, err
	}
	if !found || etag != hold.etag || r.Claim == nil || r.Claim.Owner != hold.Owner {
		return lost()
	}
	r.Claim.Until = until.UTC()
	newTag, err := l.write(ctx, job, r, etag)
	if errors.Is(err, store.ErrPreconditionFailed) {
		return lost()
	}
	if err != nil {
		return nil, fmt.Errorf("inbox ledger %s: renew claim on %s: %w", l.Bucket.URL(), prefix, err)
	}
	return &Hold{Owner: hold.Owner, Until: until, etag: newTag}, nil
}
