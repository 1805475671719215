package reposync

import (
	"context"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/store"
)

// DefaultShardGrace is how old a manifest shard no root names must be
// before a run deletes it (collectShards). A run writes its new shards
// just before it commits the root naming them, so an unnamed shard
// younger than this may belong to a run still in progress.
const DefaultShardGrace = time.Hour

func (o *Options) shardGrace() time.Duration {
	if o.shardGraceOverride != 0 {
		return max(o.shardGraceOverride, 0)
	}
	return DefaultShardGrace
}

// collectShards deletes the garbage shards of the manifest a run has just
// committed (committed: the state writeManifest returned): shards under
// MANIFEST.d/ that the committed root does not name and that were written
// more than the grace period before it. Such shards are left by runs that
// lost the race for the root or failed (or were killed) between writing
// their shards and their root; dropShards only removes the shards a
// replaced root named.
//
// It never deletes a shard a root names, even when another run commits
// between its listing and its delete. The candidates are the names the
// root this run committed (C) leaves out, and the delete goes ahead only
// while the store still holds C (one Stat, whose modification time, the
// store's own clock, is also the reference for the grace period, so a
// skewed local clock cannot make a fresh shard look old). A root committed
// after that Stat replaces C or a later root, so it names only names C
// names (never candidates) or names its run stored fresh (shardname.go: a
// name is never stored twice), after reading C, so after C was written:
// such a shard is younger than the grace period, or was not even in the
// listing. When names were content hashes alone, a later run storing the
// content of an old unnamed shard wrote its very name again and named it,
// and the delete, decided on the listing, removed it. It costs one
// listing of MANIFEST.d/ (a page per 1,000 shards), plus the Stat and a
// delete when there is garbage. Failures are logged and never fail the
// run: its record is already true, and garbage is only garbage.
func collectShards(ctx context.Context, o *Options, committed manifestState) {
	if len(committed.refs) == 0 {
		return // an inline root: the next sharded commit collects what a failed run left
	}
	dir := o.ManifestKey + ".d/"
	named := make(map[string]bool, len(committed.refs))
	for _, r := range committed.refs {
		named[shardKey(o.ManifestKey, r.Name)] = true
	}
	var unnamed []store.Object
	err := o.Bucket.ListUnder(ctx, dir, func(ob store.Object) error {
		if !named[ob.Key] && shardFile.MatchString(strings.TrimPrefix(ob.Key, dir)) {
			unnamed = append(unnamed, ob)
		}
		return nil
	})
	if err != nil {
		o.Logger.Warn("could not list manifest shards to collect garbage", "error", err.Error())
		return
	}
	if len(unnamed) == 0 {
		return
	}
	root, err := o.Bucket.Stat(ctx, o.ManifestKey)
	if err != nil {
		o.Logger.Warn("could not read back the manifest to collect garbage shards", "error", err.Error())
		return
	}
	if root.ETag != committed.etag || root.ModTime.IsZero() {
		return // another run has written the root since: its own collection decides
	}
	before := root.ModTime.Add(-o.shardGrace())
	var gone []string
	for _, ob := range unnamed {
		if !ob.ModTime.IsZero() && ob.ModTime.Before(before) {
			gone = append(gone, ob.Key)
		}
	}
	if len(gone) == 0 {
		return
	}
	if o.beforeShardGC != nil {
		o.beforeShardGC()
	}
	if err := o.Bucket.Delete(ctx, gone); err != nil {
		o.Logger.Warn("could not delete garbage manifest shards", "count", len(gone), "error", err.Error())
		return
	}
	o.Logger.Info("deleted manifest shards no run names", "count", len(gone))
}
