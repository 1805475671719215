package inbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ghsync/ghsync/internal/store"
)

// StoreLedger keeps the ledger as small JSON objects in a store, for
// runtimes without a database (Lambda): one object per set at
// .ghsync/inbox/JOB/SHA256(prefix).json. Put it in the watch store (the
// objects never fit a key pattern, and inbox processing ignores .ghsync/) or
// any other bucket the runtime may write.
type StoreLedger struct{ Bucket *store.Bucket }

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
}

func ledgerKey(job, prefix string) string {
	sum := sha256.Sum256([]byte(prefix))
	return ".ghsync/inbox/" + job + "/" + hex.EncodeToString(sum[:]) + ".json"
}

// Get implements Ledger.
func (l StoreLedger) Get(ctx context.Context, job, prefix string) (LedgerRecord, bool, error) {
	key := ledgerKey(job, prefix)
	b, _, err := l.Bucket.Read(ctx, key)
	if errors.Is(err, store.ErrNotExist) {
		return LedgerRecord{}, false, nil
	}
	if err != nil {
		return LedgerRecord{}, false, fmt.Errorf("inbox ledger %s: read %s: %w", l.Bucket.URL(), prefix, err)
	}
	var r storeRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return LedgerRecord{}, false, fmt.Errorf("inbox ledger %s: decode %s (record of %s): %w", l.Bucket.URL(), key, prefix, err)
	}
	rec := LedgerRecord{Fingerprint: r.Fingerprint, Passed: r.Passed, Files: r.Files, At: r.At,
		Complete: r.Complete == nil || *r.Complete, Attempts: max(r.Attempts, 1), Done: r.Done, Failed: r.Failed, Issue: r.Issue}
	return rec, true, nil
}

// Put implements Ledger.
func (l StoreLedger) Put(ctx context.Context, job, prefix string, rec LedgerRecord) error {
	complete := rec.Complete
	b, err := json.Marshal(storeRecord{Prefix: prefix, Fingerprint: rec.Fingerprint, Passed: rec.Passed, Files: rec.Files, At: rec.At.UTC(),
		Complete: &complete, Attempts: rec.Attempts, Done: rec.Done, Failed: rec.Failed, Issue: rec.Issue})
	if err != nil {
		return fmt.Errorf("inbox ledger %s: encode record of %s: %w", l.Bucket.URL(), prefix, err)
	}
	if _, err := l.Bucket.Put(ctx, ledgerKey(job, prefix), bytes.NewReader(b), store.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("inbox ledger %s: record %s: %w", l.Bucket.URL(), prefix, err)
	}
	return nil
}
