package inbox

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"sync"
	"time"

	"github.com/ghsync/ghsync/internal/db"
)

// Ledger remembers which upload sets were processed, by set prefix and a
// fingerprint of the set's keys and ETags, so an unchanged set is never
// processed twice (restart, redelivered event) and a changed one is.
type Ledger interface {
	// Get returns the fingerprint recorded for job's set prefix.
	Get(ctx context.Context, job, prefix string) (fingerprint string, found bool, err error)
	// Put records that job processed the set at prefix with fingerprint.
	Put(ctx context.Context, job, prefix string, rec LedgerRecord) error
}

// LedgerRecord is what is recorded for a processed set.
type LedgerRecord struct {
	Fingerprint string
	Passed      bool
	Files       int
	At          time.Time
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
func (l DBLedger) Get(ctx context.Context, job, prefix string) (string, bool, error) {
	var fp string
	err := l.DB.QueryRow(ctx, "SELECT fingerprint FROM inbox_sets WHERE job = ? AND set_prefix = ?", job, prefix).Scan(&fp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("inbox ledger: read %s %s: %w", job, prefix, err)
	}
	return fp, true, nil
}

// Put implements Ledger.
func (l DBLedger) Put(ctx context.Context, job, prefix string, rec LedgerRecord) error {
	passed := 0
	if rec.Passed {
		passed = 1
	}
	_, err := l.DB.Exec(ctx, `INSERT INTO inbox_sets (job, set_prefix, fingerprint, passed, files, processed_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (job, set_prefix) DO UPDATE SET fingerprint = excluded.fingerprint,
			passed = excluded.passed, files = excluded.files, processed_at = excluded.processed_at`,
		job, prefix, rec.Fingerprint, passed, rec.Files, db.FormatTime(rec.At))
	if err != nil {
		return fmt.Errorf("inbox ledger: record %s %s: %w", job, prefix, err)
	}
	return nil
}

// MemLedger is an in-process Ledger (tests, one-shot runs).
type MemLedger struct {
	mu sync.Mutex
	m  map[string]LedgerRecord
}

// Get implements Ledger.
func (l *MemLedger) Get(_ context.Context, job, prefix string) (string, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.m[job+"\x00"+prefix]
	return r.Fingerprint, ok, nil
}

// Put implements Ledger.
func (l *MemLedger) Put(_ context.Context, job, prefix string, rec LedgerRecord) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]LedgerRecord{}
	}
	l.m[job+"\x00"+prefix] = rec
	return nil
}
