package reposync

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Shard names. A shard is stored under MANIFEST.d/NAME.json.gz where NAME
// is SUM-NONCE: SUM is the content hash encodeShard returns (the first 128
// bits of the SHA-256 of the uncompressed JSON, 32 hex digits), which a
// reader checks the body against, and NONCE is 64 random bits (16 hex
// digits) drawn once per manifest write (newShardNamer). Roots written
// before names had a nonce name shards by SUM alone; they are read as
// they are, and their names are kept by every run that keeps the shard.
//
// Why the nonce: a name is deleted when the root naming it is replaced by
// one that does not (dropShards), or when no root names it and it is old
// (collectShards). Both deletes may land late (a lost answer retried after
// a pause, a collector between its listing and its delete). With names by
// content alone, a later run writing the same content (a revert) wrote the
// same name and its root named it, and the late delete removed it: the
// manifest named a missing shard. Now a write names a shard in one of two
// ways only:
//
//   - a name the root it replaces names (a shard left as it was, or one
//     with the content of a shard that root names), so the name is named
//     without a gap from root to root; or
//   - a fresh name, never stored before.
//
// Roots are replaced conditionally (If-Match), one after the other, so once
// a committed root leaves a name out, no later root can name it again: a
// run that read an older root naming it cannot commit. So a delete of a
// name the current root does not name, however late, never removes a shard
// that root or any later one names.

// shardFile matches the file name of a shard under MANIFEST.d/: SUM, or
// SUM-NONCE (newer builds), and the suffix shardKey gives it.
var shardFile = regexp.MustCompile(`^[0-9a-f]{32}(-[0-9a-f]{16})?\.json\.gz$`)

// shardNamer gives the shards one manifest write uploads their names. The
// zero value is not usable: get one from newShardNamer for each write.
type shardNamer struct {
	nonce string
	// named maps a content hash to the name under which the replaced root
	// names a shard of that content (what a write may reuse).
	named map[string]string
}

// newShardNamer returns the namer of one manifest write replacing a root
// that names prev.
func newShardNamer(prev []ShardRef) (*shardNamer, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("draw a manifest shard nonce: %w", err)
	}
	n := &shardNamer{nonce: hex.EncodeToString(b[:]), named: make(map[string]string, len(prev))}
	for _, r := range prev {
		n.named[shardSum(r.Name)] = r.Name
	}
	return n, nil
}

// name returns the name of a shard whose content hash is sum, and whether
// it must be uploaded: false when the replaced root (or this write) already
// names a shard of that content, whose name is returned.
func (n *shardNamer) name(sum string) (string, bool) {
	if name, ok := n.named[sum]; ok {
		return name, false
	}
	name := sum + "-" + n.nonce
	n.named[sum] = name
	return name, true
}

// shardSum returns the content hash part of a shard name.
func shardSum(name string) string {
	sum, _, _ := strings.Cut(name, "-")
	return sum
}
