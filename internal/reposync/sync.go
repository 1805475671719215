package reposync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// Run performs one sync and returns its summary. On error the summary holds
// what was done before the failure (it may be nil when nothing started).
// A run never deletes before every upload succeeded, records the keys it
// is about to create before uploading (writeIntent), and writes the
// manifest last, conditionally, so a crash at any point converges on the
// next run.
func Run(ctx context.Context, o Options) (*Summary, error) {
	o.defaults()
	if o.Source == nil || o.Bucket == nil {
		return nil, errors.New("reposync: Source and Bucket are required")
	}
	s := &Summary{Job: o.Job, Source: o.Source.String(), Dest: o.Bucket.URL(), DryRun: o.DryRun, started: time.Now(), recordKeys: o.RecordKeys}
	defer s.finish(&o)
	log := o.Logger
	if o.Job != "" { // an ad-hoc sync has no job name
		log = log.With("job", o.Job)
	}
	log = log.With("source", s.Source)

	var prev manifestState
	releaseKnown := func() {}
	var hint source.Hint
	var rev source.Revision
	var err error
	if o.KeyTemplate != "" {
		// The manifest's place depends on what the source resolves to.
		if rev, err = o.Source.Resolve(ctx, hint); err != nil {
			return s, fmt.Errorf("resolve %s: %w", s.Source, err)
		}
		if err := o.expandTemplate(); err != nil {
			return s, err
		}
		if prev, err = readManifest(ctx, o.Bucket, o.ManifestKey); err != nil {
			return s, err
		}
		if prev.m != nil && prev.m.Source == s.Source {
			hint.Commit = prev.m.Commit
		}
	} else {
		if prev, err = readManifest(ctx, o.Bucket, o.ManifestKey); err != nil {
			return s, err
		}
		if prev.m != nil && prev.m.Source == s.Source {
			hint = source.Hint{Commit: prev.m.Commit, ETag: prev.m.ETag}
			if releaseKnown, err = useKnown(ctx, &o, &prev); err != nil {
				return s, err
			}
		}
		if rev, err = o.Source.Resolve(ctx, hint); err != nil {
			return s, fmt.Errorf("resolve %s: %w", s.Source, err)
		}
		if rev.NotModified {
			rev.Commit = hint.Commit
		}
	}
	if err := o.checkOwner(prev); err != nil {
		return s, err
	}
	settings := o.fingerprint()
	s.Commit, s.Ref = rev.Commit, rev.Ref
	// An inline manifest too large to stay inline (an older build's) is
	// never up to date: the run converts it (manifestshard.go).
	if prev.m != nil && hint.Commit == rev.Commit && prev.m.Settings == settings && !o.Verify && !o.recordsOwner(prev) &&
		!(!prev.sharded() && prev.count() > o.manifestInline()) {
		s.Unchanged, s.UpToDate = prev.count(), true
		if sk := prev.m.Skips; sk != nil { // what is still left out
			s.Skips = *sk
			s.Skipped = sk.Unstorable + sk.Symlinks + sk.Submodules
			s.Paths.Skipped = append([]string(nil), prev.m.SkippedPaths...)
		}
		log.Info("up to date", "commit", rev.Commit)
		return s, nil
	}
	// A change a source diff proves reads and writes only the shards
	// holding it (manifestdelta.go); anything else is planned in full.
	if done, err := runDelta(ctx, &o, s, prev, rev, settings); done || err != nil {
		if err == nil {
			log.Info("synced", "commit", rev.Commit, "new", s.New, "modified", s.Modified, "deleted", s.Deleted, "unchanged", s.Unchanged, "delta", true)
		}
		return s, err
	}
	if o.Mode == ModeArchive {
		if err := prev.load(ctx, o.Bucket, o.ManifestKey); err != nil {
			return s, err
		}
		return s, runArchive(ctx, &o, s, rev, prev, settings)
	}
	// The listing first: a source asks the stat cache (useKnown) nothing
	// once it has listed, so its table goes before the previous manifest's
	// objects are loaded, and the two are never held at once.
	entries, err := o.Source.List(ctx)
	if err != nil {
		return s, fmt.Errorf("list %s at %s: %w", s.Source, short(rev.Commit), err)
	}
	releaseKnown()
	if err := prev.load(ctx, o.Bucket, o.ManifestKey); err != nil {
		return s, err
	}
	var listing map[string]store.Object
	if o.Verify || o.Delete == DeleteAll || prev.m == nil || prev.hasPlaceholders() {
		if listing, err = listStore(ctx, o.Bucket); err != nil {
			return s, err
		}
	}
	unreadable := unreadableOf(o.Source, s)
	plan, err := makePlan(planInput{entries: entries, prev: prev, listing: listing, opts: &o, manifest: o.ManifestKey, unreadable: unreadable})
	if err != nil {
		return s, err
	}
	plan.Commit = rev.Commit
	s.Skipped, s.Skips, s.Unmanaged, s.Unchanged = len(plan.Skipped), plan.Skips, plan.Unmanaged, len(plan.Keep)
	for _, p := range plan.Skipped {
		addPath(&s.Paths.Skipped, p)
	}
	if o.DryRun {
		s.fromPlan(plan)
		return s, unreadable.err(s)
	}
	if prev, err = writeIntent(ctx, &o, prev, plan, s.Source); err != nil {
		return s, err
	}
	convert := !prev.sharded() && prev.count() > o.manifestInline()
	if prev.m != nil {
		// The plan and the intent have what they need of the previous
		// objects (Keep holds the unchanged ones): let them go before apply.
		prev.m.Objects = nil
	}
	res, err := applyPlan(ctx, &o, plan, s)
	if err != nil {
		keepCreated(ctx, &o, s.Source, prev.etag, plan) // fence.go
		return s, err
	}
	if !plan.Changed() && prev.m != nil && prev.m.Commit == rev.Commit && prev.m.ETag == rev.ETag && prev.m.Settings == settings && !o.recordsOwner(prev) &&
		!convert {
		return s, unreadable.err(s) // verify run found no drift: the manifest is still true
	}
	m := &Manifest{Version: ManifestVersion, Job: o.Job, Owner: o.Owner, Source: s.Source, Ref: rev.Ref, Commit: rev.Commit,
		ETag: rev.ETag, Mode: o.Mode, Settings: settings, WrittenAt: time.Now().UTC()}
	if s.Skipped > 0 {
		sk := s.Skips
		m.Skips, m.SkippedPaths = &sk, s.Paths.Skipped
	}
	if unreadable.any() {
		m.Commit = "" // the next run is never up to date while files are missing from this one
	}
	committed, err := writeManifestSeq(ctx, &o, prev, m, res.objects(), res.count())
	if err != nil {
		keepCreated(ctx, &o, s.Source, prev.etag, plan)
		return s, err
	}
	collectShards(ctx, &o, committed) // shardgc.go
	log.Info("synced", "commit", rev.Commit, "new", s.New, "modified", s.Modified, "deleted", s.Deleted, "unchanged", s.Unchanged)
	return s, unreadable.err(s)
}

// expandTemplate adds the expanded KeyTemplate to KeyPrefix and moves the
// manifest under it. Placeholders the source does not know are an error.
func (o *Options) expandTemplate() error {
	ts, ok := o.Source.(TemplateSource)
	if !ok {
		return fmt.Errorf("key template %q: source %s has no template variables", o.KeyTemplate, o.Source)
	}
	vars := ts.TemplateVars()
	out := o.KeyTemplate
	for k, v := range vars {
		out = strings.ReplaceAll(out, "{"+k+"}", v)
	}
	if i := strings.Index(out, "{"); i >= 0 {
		return fmt.Errorf("key template %q: unknown placeholder at %q", o.KeyTemplate, out[i:])
	}
	if out != "" && !strings.HasSuffix(out, "/") {
		out += "/"
	}
	o.KeyPrefix += out
	o.ManifestKey = o.KeyPrefix + o.ManifestKey
	return nil
}

// listStore lists every object under the prefix, keyed by relative key.
func listStore(ctx context.Context, b *store.Bucket) (map[string]store.Object, error) {
	out := map[string]store.Object{}
	err := b.List(ctx, func(o store.Object) error {
		out[o.Key] = o
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", b.URL(), err)
	}
	return out, nil
}

// fingerprint digests the options that shape the object set, so a changed
// filter, content-type rule or delete policy is applied even when the commit
// did not move.
func (o *Options) fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s|%s|", o.Mode, o.ArchiveFmt, o.ArchiveKey, o.KeyPrefix, o.Symlinks, o.Delete)
	for _, re := range o.Filter.Include {
		fmt.Fprintf(h, "i:%s|", re)
	}
	for _, re := range o.Filter.Exclude {
		fmt.Fprintf(h, "e:%s|", re)
	}
	for _, r := range o.ContentTypes {
		fmt.Fprintf(h, "t:%s=%s|", r.Glob, r.Value)
	}
	for _, r := range o.CacheControl {
		fmt.Fprintf(h, "c:%s=%s|", r.Glob, r.Value)
	}
	if o.SkipUnstorable { // only when on, so existing manifests keep their fingerprint
		fmt.Fprint(h, "skip-unstorable|")
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func (s *Summary) fromPlan(p *Plan) {
	for _, it := range p.Uploads {
		s.count(it)
	}
	for _, it := range p.Adopt {
		s.count(it)
	}
	s.Deleted = len(p.Deletes)
	for _, k := range p.Deletes {
		addPath(&s.Paths.Deleted, k)
	}
	s.addKeys(p.Deletes)
}

func (s *Summary) count(it Item) {
	if s.recordKeys {
		s.Keys = append(s.Keys, it.Key())
	}
	switch it.Kind {
	case KindModified:
		s.Modified++
		addPath(&s.Paths.Modified, it.Path())
	case KindRepair:
		s.Repaired++
		addPath(&s.Paths.Modified, it.Path())
	default:
		s.New++
		addPath(&s.Paths.New, it.Path())
	}
}

func (s *Summary) finish(o *Options) {
	s.sortPaths()
	s.DurationMS = time.Since(s.started).Milliseconds()
	st := o.Bucket.Stats()
	s.StoreRequests = st.Requests
	s.BytesUploaded = st.BytesUploaded
	if r, ok := o.Source.(source.StatsReporter); ok {
		ss := r.Stats()
		s.GitHubRequests, s.GitHubNotModified = ss.Requests, ss.NotModified
		if ss.BytesDownloaded > 0 {
			s.BytesDownloaded = ss.BytesDownloaded
		}
	}
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
