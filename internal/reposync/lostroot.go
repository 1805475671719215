package reposync

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/ghsync/ghsync/internal/store"
)

// Lost answers of the manifest root's conditional writes.
//
// putRoot replaces the root only if it is still the one this run read
// (If-Match its ETag) or still absent (If-None-Match). When the store
// applied such a write but its answer was lost (a 502 or a reset after the
// write), the store client sends the same conditional write again; the
// retry meets this run's own root, fails its precondition, and the run
// would stop with ErrConcurrentRun although no other run wrote anything.
//
// So every root write carries an id of its own, drawn per write, in the
// object's user metadata (rootWriteMeta). When the write fails its
// precondition, the root is looked at once (one Stat): if it carries this
// write's id, the write landed — the run goes on with the ETag read back;
// otherwise another run (or a person) replaced or removed it, and the run
// stops with ErrConcurrentRun as before. A later write by anyone replaces
// the metadata with its own (or none), so an id read back is proof that the
// root in place is this very write; the ETag comes from the same answer.
// On a destination that keeps no metadata (file:// without attributes) the
// id is never read back and a lost answer stays ErrConcurrentRun; file://
// writes do not lose answers.

// rootWriteMeta is the user-metadata key under which each root write
// stores its write id.
const rootWriteMeta = "ghsync_write"

// markRootWrite gives the root write described by opts a fresh write id
// (128 random bits) in its metadata and returns the id.
func markRootWrite(opts *store.PutOptions) string {
	id := rand.Text()
	md := make(map[string]string, len(opts.Metadata)+1)
	for k, v := range opts.Metadata {
		md[k] = v
	}
	md[rootWriteMeta] = id
	opts.Metadata = md
	return id
}

// rootPreconditionFailed handles a root write (id, from markRootWrite) at
// key whose precondition failed with err. It returns the ETag of the root
// in place and nil when that root is this write (the answer to an earlier
// attempt of it was lost), and otherwise an error matching
// ErrConcurrentRun (and, when the root could not be looked at, the Stat's
// error too: the run stops either way).
func rootPreconditionFailed(ctx context.Context, b *store.Bucket, key, id string, err error) (string, error) {
	st, serr := b.Stat(ctx, key)
	switch {
	case serr == nil && st.Metadata[rootWriteMeta] == id && st.ETag != "":
		return st.ETag, nil
	case serr == nil, errors.Is(serr, store.ErrNotExist):
		return "", fmt.Errorf("write manifest %s: %w; this run stops here", key, ErrConcurrentRun)
	default:
		return "", fmt.Errorf("write manifest %s: %w (or its answer was lost: %v, and reading it back failed: %w); this run stops here",
			key, ErrConcurrentRun, err, serr)
	}
}
