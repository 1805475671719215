package inbox

import (
	"context"
	"fmt"
	"strings"
)

// Indexer is implemented by ledgers that can tell in one request which sets
// of a job are recorded complete, and with which fingerprint, so that a poll
// reads the ledger only for the sets that are new, changed or left with
// actions to retry: a poll over 10,000 processed sets and one new one costs
// the listing and the new set, not 10,000 record reads.
type Indexer interface {
	// LoadIndex returns the complete sets of job as far as known: a set
	// missing from it is looked up in the ledger as before. listed are
	// the set prefixes the poll found, sorted (nil: every set): a ledger
	// may leave out any other set, so that the cost follows the watch
	// area, not the history of sets processed and since removed.
	LoadIndex(ctx context.Context, job string, listed []string) (*Index, error)
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
	// The store ledger's layout as read (index_store.go): its immutable
	// segments, oldest first, and the head's delta over them.
	segs  []*indexSegment
	delta map[string]*IndexEntry
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
	return &Index{Sets: map[string]IndexEntry{}, updates: map[string]*IndexEntry{}, delta: map[string]*IndexEntry{}}
}

// The store ledger's poll index lives in index_store.go.

// dbIndexBatch is how many listed sets one index query asks for.
const dbIndexBatch = 1000

// LoadIndex implements Indexer: the complete rows of the listed sets, one
// query per 1,000 of them (the listing costs one request per 1,000
// objects), so that the rows of sets processed long ago and gone from the
// watch area are not read by every poll; with listed nil, one query over
// every complete row of the job.
func (l DBLedger) LoadIndex(ctx context.Context, job string, listed []string) (*Index, error) {
	x := newIndex()
	const q = `SELECT set_prefix, fingerprint, failed_actions FROM inbox_sets WHERE job = ? AND complete = 1`
	if listed == nil {
		return x, l.loadIndexRows(ctx, job, x, q, job)
	}
	for i := 0; i < len(listed); i += dbIndexBatch {
		batch := listed[i:min(i+dbIndexBatch, len(listed))]
		args := make([]any, 0, len(batch)+1)
		args = append(args, job)
		for _, p := range batch {
			args = append(args, p)
		}
		if err := l.loadIndexRows(ctx, job, x, q+` AND set_prefix IN (?`+strings.Repeat(", ?", len(batch)-1)+`)`, args...); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// loadIndexRows adds the rows q returns to x.
func (l DBLedger) loadIndexRows(ctx context.Context, job string, x *Index, q string, args ...any) error {
	rows, err := l.DB.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("inbox ledger: read the complete sets of %s: %w", job, err)
	}
	defer rows.Close()
	for rows.Next() {
		var prefix, fp, failed string
		if err := rows.Scan(&prefix, &fp, &failed); err != nil {
			return fmt.Errorf("inbox ledger: read the complete sets of %s: %w", job, err)
		}
		x.Sets[prefix] = IndexEntry{Fingerprint: fp, GaveUp: strings.TrimSpace(failed) != "" && failed != "[]"}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("inbox ledger: read the complete sets of %s: %w", job, err)
	}
	return nil
}

// SaveIndex implements Indexer: the rows are the index.
func (DBLedger) SaveIndex(context.Context, string, *Index) error { return nil }

// Unindex implements Indexer: the rows are the index.
func (DBLedger) Unindex(context.Context, string, string) error { return nil }
