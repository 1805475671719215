package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/ghsync/ghsync/internal/reposync"
	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// RemovedRepo is what a whole-owner run did with the prefix of a
// repository that left the listing.
type RemovedRepo struct {
	// Policy is the job's delete policy that was applied.
	Policy string `json:"policy"`
	// Deleted is how many objects were deleted (would be, on a dry run).
	Deleted int `json:"deleted"`
	// Kept says why the prefix was left as it is, when it was.
	Kept string `json:"kept,omitempty"`
}

// removeGone applies the delete policy to the prefixes of the repositories
// that left the listing. It returns one row per repository and the names
// whose prefixes are still to handle (kept in the job's state so a later
// run, or a forced one, handles them).
func removeGone(ctx context.Context, env *Env, r *RepoSettings, spec source.Spec, gone []string, prev *ownerState, ro RunOptions) (rows []FanoutRow, pending []string, err error) {
	if len(gone) == 0 {
		return nil, nil, nil
	}
	row := func(name string) FanoutRow {
		return FanoutRow{Row: map[string]string{"repo": name}, Source: spec.ForRepo(name), Dest: store.Redact(repoDest(r.Dest, name)),
			Removed: &RemovedRepo{Policy: r.Delete}}
	}
	if r.Delete == reposync.DeleteNone {
		for _, name := range gone {
			fr := row(name)
			fr.Removed.Kept = "left the listing; delete: none keeps its objects"
			rows = append(rows, fr)
		}
		return rows, nil, nil // no longer the job's: never looked at again
	}
	if half := len(prev.Mirrored) / 2; len(gone) > max(half, 1) && !ro.Force {
		for _, name := range gone {
			fr := row(name)
			fr.Removed.Kept = "not removed: too many repositories left the listing at once"
			rows = append(rows, fr)
		}
		return rows, gone, fmt.Errorf("%d of the %d repositories mirrored so far left the listing of %s; none was removed, as a listing that lost "+
			"repositories (credentials that lost access) looks the same. Check the listing, then run with --force to remove them",
			len(gone), len(prev.Mirrored), spec.Owner)
	}
	var errs []string
	for _, name := range gone {
		fr := row(name)
		n, kept, err := removePrefix(ctx, env, r, spec, name, ro.DryRun)
		fr.Removed.Deleted, fr.Removed.Kept = n, kept
		if err != nil {
			fr.Error = err.Error()
			errs = append(errs, name+": "+err.Error())
			pending = append(pending, name)
		} else if ro.DryRun {
			pending = append(pending, name)
		}
		rows = append(rows, fr)
	}
	if len(errs) > 0 {
		return rows, pending, fmt.Errorf("removing repositories that left the listing: %s", strings.Join(errs, "; "))
	}
	return rows, pending, nil
}

// removePrefix deletes, under DEST/{name}/, what the delete policy says:
// with managed, the objects listed in the manifests there (and their
// .ghsync folders); with all, every object. A manifest owned by another
// source means the prefix is no longer this job's: nothing is deleted.
func removePrefix(ctx context.Context, env *Env, r *RepoSettings, spec source.Spec, name string, dryRun bool) (deleted int, kept string, err error) {
	b, err := env.OpenStore(ctx, repoDest(r.Dest, name), store.Options{})
	if err != nil {
		return 0, "", err
	}
	defer b.Close()
	var all []string
	if err := b.List(ctx, func(o store.Object) error { all = append(all, o.Key); return nil }); err != nil {
		return 0, "", fmt.Errorf("list %s: %w", store.Redact(b.URL()), err)
	}
	owner := reposync.OwnerOf(source.Spec{Kind: source.KindGitHub, Owner: spec.Owner, Repo: name})
	managed := map[string]bool{}
	for _, k := range all {
		if k != r.Manifest && !strings.HasSuffix(k, "/"+r.Manifest) {
			continue
		}
		data, _, err := b.Read(ctx, k)
		if err != nil {
			return 0, "", fmt.Errorf("read manifest %s: %w", k, err)
		}
		var m reposync.Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			return 0, "", fmt.Errorf("manifest %s is unreadable (%v); nothing deleted", k, err)
		}
		if m.Owner != "" && m.Owner != owner {
			return 0, fmt.Sprintf("%s belongs to %s now; nothing deleted", k, m.Owner), nil
		}
		for _, o := range m.Objects {
			managed[o.Key] = true
		}
		managed[k] = true
		if stateDir := strings.TrimSuffix(k, path.Base(k)); path.Base(stateDir) == ownerStateDir {
			for _, o := range all { // the manifest's .ghsync/ folder (intent records)
				if strings.HasPrefix(o, stateDir) {
					managed[o] = true
				}
			}
		}
	}
	var del []string
	for _, k := range all {
		if r.Delete == reposync.DeleteAll || managed[k] {
			del = append(del, k)
		}
	}
	if dryRun || len(del) == 0 {
		return len(del), "", nil
	}
	if err := b.Delete(ctx, del); err != nil {
		return 0, "", fmt.Errorf("delete under %s: %w", store.Redact(b.URL()), err)
	}
	return len(del), "", nil
}

// jsonUnmarshal decodes data into v.
func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// writeJSON writes v as indented JSON at key.
func writeJSON(ctx context.Context, b *store.Bucket, key string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if _, err := b.Put(ctx, key, bytes.NewReader(data), store.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("write %s%s: %w", store.Redact(b.URL()), key, err)
	}
	return nil
}
