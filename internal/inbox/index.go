package inbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ghsync/ghsync/internal/store"
)

// Indexer is implemented by ledgers that can tell in one request which sets
// of a job are recorded complete, and with which fingerprint, so that a poll
// reads the ledger only for the sets that are new, changed or left with
// actions to retry: a poll over 10,000 processed sets and one new one costs
// the listing and the new set, not 10,000 record reads.
type Indexer interface {
	// LoadIndex returns the complete sets of job as far as known: a set
	// missing from it is looked up in the ledger as before.
	LoadIndex(ctx context.Context, job string) (*Index, error)
	// SaveIndex stores idx's changes (a ledger whose LoadIndex reads the
	// records themselves has nothing to store).
	SaveIndex(ctx context.Context, job string, idx *Index) error
	// Unindex drops prefix from the index: a run by hand recorded the set
	// again, perhaps incomplete with the same fingerprint.
	Unindex(ctx context.Context, job, prefix string) error
}

// IndexEntry is what the index knows of a complete set.
type IndexEntry struct {
	Fingerprint string `json:"f"`
	// GaveUp: complete because its failed actions were given up on.
	GaveUp bool `json:"g,omitempty"`
}

// Index maps set prefixes to their complete records' fingerprints.
type Index struct {
	Sets map[string]IndexEntry
	// updates are this poll's changes (nil entry: removed), merged into a
	// newer index when another run saved one meanwhile.
	updates map[string]*IndexEntry
	etag    string
}

// set records that prefix is complete as e.
func (x *Index) set(prefix string, e IndexEntry) {
	if cur, ok := x.Sets[prefix]; ok && cur == e {
		return
	}
	x.Sets[prefix] = e
	x.updates[prefix] = &e
}

// drop removes prefix.
func (x *Index) drop(prefix string) {
	if _, ok := x.Sets[prefix]; !ok {
		return
	}
	delete(x.Sets, prefix)
	x.updates[prefix] = nil
}

func newIndex() *Index {
	return &Index{Sets: map[string]IndexEntry{}, updates: map[string]*IndexEntry{}}
}

// indexFile is the store ledger's index object.
type indexFile struct {
	Version int                   `json:"version"`
	Sets    map[string]IndexEntry `json:"sets"`
}

func indexKey(job string) string { return ".ghsync/inbox/" + job + "/index.json" }

// LoadIndex implements Indexer: one read of .ghsync/inbox/JOB/index.json.
func (l StoreLedger) LoadIndex(ctx context.Context, job string) (*Index, error) {
	x := newIndex()
	b, etag, err := l.Bucket.Read(ctx, indexKey(job))
	if errors.Is(err, store.ErrNotExist) {
		return x, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inbox ledger %s: read the poll index: %w", l.Bucket.URL(), err)
	}
	var f indexFile
	if err := json.Unmarshal(b, &f); err != nil || f.Version != 1 {
		// A damaged or unknown index only costs one full pass: start afresh.
		return &Index{Sets: map[string]IndexEntry{}, updates: map[string]*IndexEntry{}, etag: etag}, nil
	}
	if f.Sets != nil {
		x.Sets = f.Sets
	}
	x.etag = etag
	return x, nil
}

// SaveIndex implements Indexer: a conditional write on the ETag read; when
// another run saved the index meanwhile, this run's changes are applied to
// that one and written once more (if that fails too, the next poll looks the
// changed sets up again).
func (l StoreLedger) SaveIndex(ctx context.Context, job string, x *Index) error {
	if len(x.updates) == 0 {
		return nil
	}
	for try := 0; ; try++ {
		b, err := json.Marshal(indexFile{Version: 1, Sets: x.Sets})
		if err != nil {
			return fmt.Errorf("inbox ledger %s: encode the poll index: %w", l.Bucket.URL(), err)
		}
		po := store.PutOptions{ContentType: "application/json", IfMatch: x.etag, IfNoneMatch: x.etag == ""}
		o, err := l.Bucket.Put(ctx, indexKey(job), bytes.NewReader(b), po)
		if err == nil {
			x.etag, x.updates = o.ETag, map[string]*IndexEntry{}
			return nil
		}
		if !errors.Is(err, store.ErrPreconditionFailed) || try == 1 {
			return fmt.Errorf("inbox ledger %s: write the poll index: %w", l.Bucket.URL(), err)
		}
		fresh, err := l.LoadIndex(ctx, job)
		if err != nil {
			return err
		}
		for p, e := range x.updates {
			if e == nil {
				delete(fresh.Sets, p)
			} else {
				fresh.Sets[p] = *e
			}
		}
		x.Sets, x.etag = fresh.Sets, fresh.etag
	}
}

// Unindex implements Indexer.
func (l StoreLedger) Unindex(ctx context.Context, job, prefix string) error {
	x, err := l.LoadIndex(ctx, job)
	if err != nil {
		return err
	}
	x.drop(prefix)
	return l.SaveIndex(ctx, job, x)
}

// LoadIndex implements Indexer: one query over the job's complete rows.
func (l DBLedger) LoadIndex(ctx context.Context, job string) (*Index, error) {
	rows, err := l.DB.Query(ctx, `SELECT set_prefix, fingerprint, failed_actions FROM inbox_sets
		WHERE job = ? AND complete = 1`, job)
	if err != nil {
		return nil, fmt.Errorf("inbox ledger: read the complete sets of %s: %w", job, err)
	}
	defer rows.Close()
	x := newIndex()
	for rows.Next() {
		var prefix, fp, failed string
		if err := rows.Scan(&prefix, &fp, &failed); err != nil {
			return nil, fmt.Errorf("inbox ledger: read the complete sets of %s: %w", job, err)
		}
		x.Sets[prefix] = IndexEntry{Fingerprint: fp, GaveUp: strings.TrimSpace(failed) != "" && failed != "[]"}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inbox ledger: read the complete sets of %s: %w", job, err)
	}
	return x, nil
}

// SaveIndex implements Indexer: the rows are the index.
func (DBLedger) SaveIndex(context.Context, string, *Index) error { return nil }

// Unindex implements Indexer: the rows are the index.
func (DBLedger) Unindex(context.Context, string, string) error { return nil }
