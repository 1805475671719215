package inbox

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/ghsync/ghsync/internal/db"
)

// Ledger remembers which upload sets were processed, by set prefix and a
// fingerprint of the set's keys and ETags, and which of their actions are
// settled: an unchanged, complete set is never processed twice (restart,
// redelivered event), an unchanged set with failed actions is processed again
// performing only those, and a changed set is processed in full.
//
// A run claims a set before acting on it (Claim), atomically across
// processes, so that of concurrent runs for one set (two S3 events of one
// upload, serve replicas, a poll and an event) exactly one acts; the others
// see it Busy. A claim is a lease, renewed by its run while it acts
// (Renew): when its run crashes, the set is free again once the lease has
// expired.
type Ledger interface {
	// Get returns the record of job's set at prefix; found is false when
	// the set was never recorded.
	Get(ctx context.Context, job, prefix string) (rec LedgerRecord, found bool, err error)
	// Claim takes job's set at prefix for c.Owner until c.Until, unless it
	// is recorded complete with this fingerprint ("" matches no record:
	// a run by hand) — then nothing is written — or another run holds an
	// unexpired claim (Busy). The check and the claim are one atomic step.
	Claim(ctx context.Context, job, prefix, fingerprint string, c Claim) (ClaimResult, error)
	// Put records the outcome of processing job's set at prefix, replacing
	// any earlier record, and frees the set. With a Hold the write happens
	// only while the hold is still the set's claim (else ErrClaimLost);
	// with nil it is unconditional.
	Put(ctx context.Context, job, prefix string, rec LedgerRecord, hold *Hold) error
	// Release frees a set claimed by hold without recording anything (the
	// run stopped before acting: an unreadable file). A hold that is no
	// longer the set's claim is left alone.
	Release(ctx context.Context, job, prefix string, hold *Hold) error
	// Renew extends the claim hold on job's set at prefix to until, in one
	// atomic step, only while hold is still the set's claim; otherwise it
	// writes nothing and fails with ErrClaimLost. It returns the renewed
	// hold to use from then on (the store ledger's hold changes with each
	// write); hold itself is not changed.
	Renew(ctx context.Context, job, prefix string, hold *Hold, until time.Time) (*Hold, error)
}

// LedgerRecord is what is recorded for a processed set.
type LedgerRecord struct {
	Fingerprint string
	Passed      bool
	Files       int
	At          time.Time
	// Complete is true when nothing is left to try for this content: every
	// action is settled, or Attempts reached the job's bound (then Failed
	// is not empty: the set was given up on until it changes). Records
	// written before retries existed read as complete.
	Complete bool
	// Attempts counts the runs that processed this content (1 and up).
	Attempts int
	// Done are the settled actions (performed, or deliberately not: no
	// credential, not configured, not applicable), by ActionKey: a retry
	// does not perform them again.
	Done []string
	// Failed are the actions of the last run that failed or could not run
	// because another failed (report.json after a failed copy), by ActionKey.
	Failed []string
	// Issue is the GitHub issue the github action raised or commented on
	// ("" when none), so a retry that does not repeat that action still
	// reports it.
	Issue string
}

// GaveUp reports whether the set's failed actions will not be tried again
// until the set changes.
func (r LedgerRecord) GaveUp() bool { return r.Complete && len(r.Failed) > 0 }

// ActionKey names an action in the ledger: the action kind ("github",
// "email", "callback", "report.json"), or "copy:KEY" for the copy of one file.
func ActionKey(action, key string) string {
	if key == "" {
		return action
	}
	return action + ":" + key
}

// Fingerprint identifies a set's content: its keys with their ETags.
func Fingerprint(files []FileReport) string {
	lines := make([]string, len(files))
	for i, f := range files {
		lines[i] = f.Key + "\x00" + f.ETag
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Migrate creates or updates the inbox tables (component "inbox").
func Migrate(ctx context.Context, d *db.DB) error {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		return fmt.Errorf("inbox migrations: %w", err)
	}
	return d.Migrate(ctx, "inbox", sub)
}

// DBLedger keeps the ledger in the ghsync database (SQLite or PostgreSQL).
// Call Migrate first.
type DBLedger struct{ DB *db.DB }

// Get implements Ledger.
func (l DBLedger) Get(ctx context.Context, job, prefix string) (LedgerRecord, bool, error) {
	var owner, until, fp string
	return l.get(ctx, l.DB.R, job, prefix, &owner, &until, &fp)
}

// get reads the set's row through h (the writer right after a claim, so
// that the read follows it), with its claim columns into owner, until and
// claimFP.
func (l DBLedger) get(ctx context.Context, h *sql.DB, job, prefix string, owner, until, claimFP *string) (LedgerRecord, bool, error) {
	var (
		r                LedgerRecord
		passed, complete int
		at, done, failed string
	)
	err := h.QueryRowContext(ctx, l.DB.Rebind(`SELECT fingerprint, passed, files, processed_at, complete, attempts,
		done_actions, failed_actions, github_issue, claim_owner, claim_until, claim_fingerprint
		FROM inbox_sets WHERE job = ? AND set_prefix = ?`), job, prefix).
		Scan(&r.Fingerprint, &passed, &r.Files, &at, &complete, &r.Attempts, &done, &failed, &r.Issue, owner, until, claimFP)
	if errors.Is(err, sql.ErrNoRows) {
		return LedgerRecord{}, false, nil
	}
	if err != nil {
		return LedgerRecord{}, false, fmt.Errorf("inbox ledger: read %s %s: %w", job, prefix, err)
	}
	r.Passed, r.Complete = passed != 0, complete != 0
	if r.At, err = db.ParseTime(at); err != nil {
		return LedgerRecord{}, false, fmt.Errorf("inbox ledger: read %s %s: processed_at %q: %w", job, prefix, at, err)
	}
	if r.Done, err = decodeActionList(done); err != nil {
		return LedgerRecord{}, false, fmt.Errorf("inbox ledger: read %s %s: done_actions: %w", job, prefix, err)
	}
	if r.Failed, err = decodeActionList(failed); err != nil {
		return LedgerRecord{}, false, fmt.Errorf("inbox ledger: read %s %s: failed_actions: %w", job, prefix, err)
	}
	return r, true, nil
}

// Put implements Ledger.
func (l DBLedger) Put(ctx context.Context, job, prefix string, rec LedgerRecord, hold *Hold) error {
	done, err := encodeActionList(rec.Done)
	if err != nil {
		return fmt.Errorf("inbox ledger: record %s %s: %w", job, prefix, err)
	}
	failed, err := encodeActionList(rec.Failed)
	if err != nil {
		return fmt.Errorf("inbox ledger: record %s %s: %w", job, prefix, err)
	}
	q := `INSERT INTO inbox_sets (job, set_prefix, fingerprint, passed, files, processed_at,
			complete, attempts, done_actions, failed_actions, github_issue)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (job, set_prefix) DO UPDATE SET fingerprint = excluded.fingerprint,
			passed = excluded.passed, files = excluded.files, processed_at = excluded.processed_at,
			complete = excluded.complete, attempts = excluded.attempts, done_actions = excluded.done_actions,
			failed_actions = excluded.failed_actions, github_issue = excluded.github_issue`
	args := []any{job, prefix, rec.Fingerprint, boolInt(rec.Passed), rec.Files, db.FormatTime(rec.At),
		boolInt(rec.Complete), rec.Attempts, done, failed, rec.Issue}
	if hold != nil {
		// Frees the claim in the same statement, only while it is ours.
		q += `, claim_owner = '', claim_until = '', claim_fingerprint = '' WHERE inbox_sets.claim_owner = ?`
		args = append(args, hold.Owner)
	}
	r, err := l.DB.Exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("inbox ledger: record %s %s: %w", job, prefix, err)
	}
	if hold != nil {
		if n, err := r.RowsAffected(); err != nil {
			return fmt.Errorf("inbox ledger: record %s %s: %w", job, prefix, err)
		} else if n == 0 {
			return fmt.Errorf("inbox ledger: record %s %s (claim of %s until %s): %w", job, prefix, hold.Owner,
				hold.Until.UTC().Format(time.RFC3339), ErrClaimLost)
		}
	}
	return nil
}

// Claim implements Ledger: one upsert that takes the row's claim columns
// only when the row is not complete with this fingerprint and its claim is
// free or expired (a new set gets a placeholder row that matches no
// fingerprint), then one read of the row.
func (l DBLedger) Claim(ctx context.Context, job, prefix, fingerprint string, c Claim) (ClaimResult, error) {
	if fingerprint != "" {
		rec, found, err := l.Get(ctx, job, prefix)
		if err != nil {
			return ClaimResult{}, err
		}
		if unchanged(rec, found, fingerprint) {
			return ClaimResult{Record: rec, Found: true}, nil
		}
	}
	now, until := db.FormatTime(c.Now), db.FormatTime(c.Until)
	r, err := l.DB.Exec(ctx, `INSERT INTO inbox_sets (job, set_prefix, fingerprint, passed, files, processed_at,
			complete, attempts, claim_owner, claim_until, claim_fingerprint)
		VALUES (?, ?, '', 0, 0, ?, 0, 0, ?, ?, ?)
		ON CONFLICT (job, set_prefix) DO UPDATE SET claim_owner = excluded.claim_owner, claim_until = excluded.claim_until,
			claim_fingerprint = excluded.claim_fingerprint
		WHERE NOT (inbox_sets.complete = 1 AND inbox_sets.fingerprint = ? AND ? <> '')
			AND (inbox_sets.claim_owner = '' OR inbox_sets.claim_until <= ? OR inbox_sets.claim_owner = ?)`,
		job, prefix, now, c.Owner, until, c.Fingerprint, fingerprint, fingerprint, now, c.Owner)
	if err != nil {
		return ClaimResult{}, fmt.Errorf("inbox ledger: claim %s %s: %w", job, prefix, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return ClaimResult{}, fmt.Errorf("inbox ledger: claim %s %s: %w", job, prefix, err)
	}
	var owner, holderUntil, holderFP string
	rec, found, err := l.get(ctx, l.DB.W, job, prefix, &owner, &holderUntil, &holderFP)
	if err != nil {
		return ClaimResult{}, err
	}
	if n > 0 && owner == c.Owner {
		if rec.Attempts == 0 && rec.Fingerprint == "" {
			found = false // our placeholder: the set was never recorded
		}
		return ClaimResult{Claimed: true, Hold: &Hold{Owner: c.Owner, Until: c.Until}, Record: rec, Found: found}, nil
	}
	if unchanged(rec, found, fingerprint) {
		return ClaimResult{Record: rec, Found: true}, nil
	}
	res := ClaimResult{Busy: true, Record: rec, Found: found, Holder: Claim{Owner: owner, Fingerprint: holderFP}}
	if t, err := db.ParseTime(holderUntil); err == nil {
		res.Holder.Until = t
	}
	return res, nil
}

// Release implements Ledger.
func (l DBLedger) Release(ctx context.Context, job, prefix string, hold *Hold) error {
	if hold == nil {
		return nil
	}
	if _, err := l.DB.Exec(ctx, `UPDATE inbox_sets SET claim_owner = '', claim_until = '', claim_fingerprint = ''
		WHERE job = ? AND set_prefix = ? AND claim_owner = ?`, job, prefix, hold.Owner); err != nil {
		return fmt.Errorf("inbox ledger: release %s %s: %w", job, prefix, err)
	}
	return nil
}

// Renew implements Ledger: one conditional UPDATE of the claim's end.
func (l DBLedger) Renew(ctx context.Context, job, prefix string, hold *Hold, until time.Time) (*Hold, error) {
	r, err := l.DB.Exec(ctx, `UPDATE inbox_sets SET claim_until = ?
		WHERE job = ? AND set_prefix = ? AND claim_owner = ?`, db.FormatTime(until), job, prefix, hold.Owner)
	if err != nil {
		return nil, fmt.Errorf("inbox ledger: renew claim on %s %s: %w", job, prefix, err)
	}
	if n, err := r.RowsAffected(); err != nil {
		return nil, fmt.Errorf("inbox ledger: renew claim on %s %s: %w", job, prefix, err)
	} else if n == 0 {
		return nil, fmt.Errorf("inbox ledger: renew claim on %s %s (claim of %s until %s): %w", job, prefix, hold.Owner,
			hold.Until.UTC().Format(time.RFC3339), ErrClaimLost)
	}
	return &Hold{Owner: hold.Owner, Until: until}, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// encodeActionList stores action keys as a JSON array ("" when none: the
// column's default, what rows from before retries hold).
func encodeActionList(keys []string) (string, error) {
	if len(keys) == 0 {
		return "", nil
	}
	b, err := json.Marshal(keys)
	if err != nil {
		return "", fmt.Errorf("encode action list: %w", err)
	}
	return string(b), nil
}

func decodeActionList(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var keys []string
	if err := json.Unmarshal([]byte(s), &keys); err != nil {
		return nil, fmt.Errorf("not a JSON list of action names: %w", err)
	}
	return keys, nil
}

// MemLedger is an in-process Ledger (tests, one-shot runs).
type MemLedger struct {
	mu     sync.Mutex
	m      map[string]LedgerRecord
	claims map[string]Claim
}

// Get implements Ledger.
func (l *MemLedger) Get(_ context.Context, job, prefix string) (LedgerRecord, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.m[job+"\x00"+prefix]
	return r.clone(), ok, nil
}

// Put implements Ledger.
func (l *MemLedger) Put(_ context.Context, job, prefix string, rec LedgerRecord, hold *Hold) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := job + "\x00" + prefix
	if hold != nil {
		if l.claims[k].Owner != hold.Owner {
			return fmt.Errorf("inbox ledger: record %s %s: %w", job, prefix, ErrClaimLost)
		}
		delete(l.claims, k)
	}
	if l.m == nil {
		l.m = map[string]LedgerRecord{}
	}
	l.m[k] = rec.clone()
	return nil
}

// Claim implements Ledger.
func (l *MemLedger) Claim(_ context.Context, job, prefix, fingerprint string, c Claim) (ClaimResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := job + "\x00" + prefix
	rec, found := l.m[k]
	if unchanged(rec, found, fingerprint) {
		return ClaimResult{Record: rec.clone(), Found: true}, nil
	}
	if h, held := l.claims[k]; held && h.Owner != c.Owner && h.Until.After(c.Now) {
		return ClaimResult{Busy: true, Holder: h, Record: rec.clone(), Found: found}, nil
	}
	if l.claims == nil {
		l.claims = map[string]Claim{}
	}
	l.claims[k] = c
	return ClaimResult{Claimed: true, Hold: &Hold{Owner: c.Owner, Until: c.Until}, Record: rec.clone(), Found: found}, nil
}

// Release implements Ledger.
func (l *MemLedger) Release(_ context.Context, job, prefix string, hold *Hold) error {
	if hold == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k := job + "\x00" + prefix
	if l.claims[k].Owner == hold.Owner {
		delete(l.claims, k)
	}
	return nil
}

// Renew implements Ledger.
func (l *MemLedger) Renew(_ context.Context, job, prefix string, hold *Hold, until time.Time) (*Hold, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := job + "\x00" + prefix
	c, held := l.claims[k]
	if !held || c.Owner != hold.Owner {
		return nil, fmt.Errorf("inbox ledger: renew claim on %s %s: %w", job, prefix, ErrClaimLost)
	}
	c.Until = until
	l.claims[k] = c
	return &Hold{Owner: hold.Owner, Until: until}, nil
}

// clone copies the record's lists, so that a caller's later changes do not
// reach the stored record.
func (r LedgerRecord) clone() LedgerRecord {
	r.Done = slices.Clone(r.Done)
	r.Failed = slices.Clone(r.Failed)
	return r
}
