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

type storeRecord struct {
	Prefix      string    `json:"prefix"`
	Fingerprint string    `json:"fingerprint"`
	Passed      bool      `json:"passed"`
	Files       int       `json:"files"`
	At          time.Time `json:"processed_at"`
}

func ledgerKey(job, prefix string) string {
	sum := sha256.Sum256([]byte(prefix))
	return ".ghsync/inbox/" + job + "/" + hex.EncodeToString(sum[:]) + ".json"
}

// Get implements Ledger.
func (l StoreLedger) Get(ctx context.Context, job, prefix string) (string, bool, error) {
	b, _, err := l.Bucket.Read(ctx, ledgerKey(job, prefix))
	if errors.Is(err, store.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("inbox ledger %s: read %s: %w", l.Bucket.URL(), prefix, err)
	}
	var r storeRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return "", false, fmt.Errorf("inbox ledger %s: decode record of %s: %w", l.Bucket.URL(), prefix, err)
	}
	return r.Fingerprint, true, nil
}

// Put implements Ledger.
func (l StoreLedger) Put(ctx context.Context, job, prefix string, rec LedgerRecord) error {
	b, err := json.Marshal(storeRecord{Prefix: prefix, Fingerprint: rec.Fingerprint, Passed: rec.Passed, Files: rec.Files, At: rec.At.UTC()})
	if err != nil {
		return err
	}
	if _, err := l.Bucket.Put(ctx, ledgerKey(job, prefix), bytes.NewReader(b), store.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("inbox ledger %s: record %s: %w", l.Bucket.URL(), prefix, err)
	}
	return nil
}
