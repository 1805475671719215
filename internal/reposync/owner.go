package reposync

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// A prefix belongs to one source. Two sources syncing into one prefix —
// two configurations, or an ad-hoc `ghsync sync` next to a job — delete each
// other's objects on every run, each exiting 0. The manifest therefore
// records its owner (Manifest.Owner, the identity OwnerOf gives) and a run
// from another source stops before it changes anything (OwnerError) unless
// it is told to take the prefix over (Options.TakeOver).
//
// "Same source" is the same repository or folder, whatever ref or release
// of it is selected: moving a site from @main to @v2, or from a tag to the
// latest release, is the owner changing what it publishes, not a stranger.
// A manifest written before owners were recorded (no Owner) is taken by the
// next run: a run that must record or change the owner (recordsOwner) is
// never "up to date" and always writes the manifest.

// ErrOwned is matched (errors.Is) by an *OwnerError.
var ErrOwned = errors.New("destination owned by another source")

// OwnerError reports a run whose source is not the destination's owner.
type OwnerError struct {
	// Dest is the destination (redacted).
	Dest string
	// Owner is the owner recorded in the manifest; OwnerJob the job that
	// wrote it ("" for an ad-hoc sync).
	Owner, OwnerJob string
	// Source is this run's source identity.
	Source string
}

func (e *OwnerError) Error() string {
	by := ""
	if e.OwnerJob != "" {
		by = fmt.Sprintf(" (job %q)", e.OwnerJob)
	}
	return fmt.Sprintf("%s belongs to %s%s, not to %s: two sources syncing into one prefix delete each other's objects. "+
		"Use another destination, or take it over with --take-over (ghsync sync or ghsync run), which makes %s the owner "+
		"and deletes the objects of %s that it does not have", e.Dest, e.Owner, by, e.Source, e.Source, e.Owner)
}

// Is makes errors.Is(err, ErrOwned) true.
func (e *OwnerError) Is(target error) bool { return target == ErrOwned }

// OwnerOf returns the identity of the source spec as the manifest records
// its owner: github:OWNER/REPO (lower case; any ref or release), the
// remote's URL for git remotes (lower-case scheme and host, no trailing
// ".git" or "/", no ref), and local:ABSOLUTE_PATH (symbolic links
// resolved) for a checkout or folder, so that a folder that becomes a git
// checkout keeps its prefix.
func OwnerOf(spec source.Spec) string {
	switch spec.Kind {
	case source.KindGitHub:
		return "github:" + strings.ToLower(spec.Owner+"/"+spec.Repo)
	case source.KindGit:
		return "git:" + normRemote(spec.URL)
	case source.KindCheckout, source.KindDir:
		abs, err := filepath.Abs(spec.Path)
		if err != nil {
			abs = spec.Path
		}
		return "local:" + filepath.ToSlash(store.RealPath(abs))
	}
	return string(spec.Kind) + ":" + spec.Path + spec.URL
}

// normRemote normalises a git remote URL for comparison.
func normRemote(raw string) string {
	raw = strings.TrimPrefix(raw, "git+")
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	u.User, u.Fragment, u.RawFragment, u.RawQuery = nil, "", "", ""
	if u.Scheme == "file" {
		if abs, err := filepath.Abs(filepath.FromSlash(u.Path)); err == nil {
			u.Path = filepath.ToSlash(store.RealPath(abs))
		}
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), ".git")
	return u.String()
}

// checkOwner refuses a run whose source is not the owner recorded in prev
// (OwnerError), unless o.TakeOver is set or o.Owner is "" (a caller that
// does not identify its source). A manifest without an owner is accepted;
// the run records its owner when it writes the manifest.
func (o *Options) checkOwner(prev manifestState) error {
	if o.Owner == "" || prev.m == nil || prev.m.Owner == "" || prev.m.Owner == o.Owner {
		return nil
	}
	if o.TakeOver {
		o.Logger.Warn("taking the destination over", "dest", o.Bucket.URL()+o.KeyPrefix, "owner", prev.m.Owner, "new_owner", o.Owner)
		return nil
	}
	return &OwnerError{Dest: o.Bucket.URL() + o.KeyPrefix, Owner: prev.m.Owner, OwnerJob: prev.m.Job, Source: o.Owner}
}

// recordsOwner reports whether this run must write the manifest to record
// its owner: prev names none (an older manifest) or another (a take-over).
func (o *Options) recordsOwner(prev manifestState) bool {
	return o.Owner != "" && prev.m != nil && prev.m.Owner != o.Owner
}
