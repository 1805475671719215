package jobs

import (
	"context"
	"fmt"
	"sort"

	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/store"
)

// ownerView is what a whole-owner job (repo or statuses) knows of the owner
// at the start of a run.
type ownerView struct {
	gh *github.Client
	// prev is the job's state from its last run (nil before the first).
	prev *ownerState
	// listing is this run's listing; notModified when GitHub answered 304
	// to the last run's validators.
	listing     *github.RepoListing
	notModified bool
	// keep are the repositories the job's filter keeps, by name.
	keep []github.OwnerRepo
}

// listOwner reads the job's state at stateKey in b and lists owner's
// repositories, conditionally on the last listing, keeping those f keeps.
// A failed listing is an error, never an empty listing: nothing may be
// removed on it; what says what the run would have done ("synced",
// "snapshotted") for the message.
func listOwner(ctx context.Context, env *Env, b *store.Bucket, stateKey, owner string, f OwnerFilter, what string) (*ownerView, error) {
	prev, err := readOwnerStateAt(ctx, b, stateKey)
	if err != nil {
		return nil, err
	}
	gh, err := env.GitHub(ctx)
	if err != nil {
		return nil, err
	}
	var prevListing *github.RepoListing
	if prev != nil {
		prevListing = prev.Listing
	}
	listing, notModified, err := gh.ListOwnerRepos(ctx, owner, prevListing)
	if err != nil {
		return nil, fmt.Errorf("list the repositories of %s (nothing %s or removed): %w", owner, what, err)
	}
	v := &ownerView{gh: gh, prev: prev, listing: listing, notModified: notModified}
	for _, r := range listing.Repos() {
		if f.Keep(r) {
			v.keep = append(v.keep, r)
		}
	}
	sort.Slice(v.keep, func(i, j int) bool { return v.keep[i].Name < v.keep[j].Name })
	return v, nil
}
