package inbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/ghsync/ghsync/internal/store"
)

// ProcessSet processes the upload set holding key (relative to the watch
// prefix; it need not exist: a set prefix works too): list the set, check
// each file, then act — on pass copy to final, raise or update the GitHub
// issue, write report.json; on fail email; always call back. Without
// opts.SkipUnchanged (a run by hand) every action is performed, whatever
// the ledger holds; the outcome is recorded as a first run. The error is
// non-nil when the configuration is invalid, the set cannot be read, or any
// action failed (the Result still says what was done).
func ProcessSet(ctx context.Context, deps Deps, cfg *Config, key string, opts RunOptions) (*Result, error) {
	deps.fill()
	j, err := compileOrError(cfg)
	if err != nil {
		return nil, err
	}
	segs, prefix, ok := j.pattern.SetOf(strings.TrimPrefix(key, "/"))
	if !ok {
		return nil, fmt.Errorf("inbox %s: key %q does not fit key_pattern %s", cfg.Name, key, j.pattern)
	}
	objs, err := j.listSet(ctx, &deps, prefix)
	if err != nil {
		return nil, err
	}
	res, err := j.process(ctx, &deps, prefix, segs, objs, opts)
	if x, ok := deps.Ledger.(Indexer); ok && !opts.DryRun && res != nil && !res.Busy {
		// The record may now say "incomplete" for content the poll index
		// holds complete: drop it there, the next poll reads the record.
		if uerr := x.Unindex(ctx, cfg.Name, prefix); uerr != nil {
			deps.Logger.Warn("inbox: could not update the poll index; the next poll may skip this set until it changes", "set", prefix, "error", uerr)
			err = errors.Join(err, uerr)
		}
	}
	return res, err
}

// Poll lists the watch prefix, groups the objects into upload sets and
// processes each set that the ledger has not recorded with the same keys
// and ETags, or recorded with actions left to try (then only those). Errors
// of single sets are in their Results and joined into the returned error; a
// listing failure returns no result.
//
// When the ledger is an Indexer, the sets its index holds complete with the
// listed fingerprint are counted unchanged without reading their records:
// beyond the listing (one request per 1,000 objects), a poll costs one index
// read, the ledger requests of the sets that are new, changed or left to
// retry, and one index write when it changed.
func Poll(ctx context.Context, deps Deps, cfg *Config, opts RunOptions) (*PollResult, error) {
	deps.fill()
	j, err := compileOrError(cfg)
	if err != nil {
		return nil, err
	}
	watch, err := deps.OpenStore(ctx, cfg.Watch)
	if err != nil {
		return nil, fmt.Errorf("inbox %s: open watch: %w", cfg.Name, err)
	}
	defer watch.Close()
	type set struct {
		segs map[string]string
		objs []store.Object
	}
	sets := map[string]*set{}
	order := []string{} // never nil: LoadIndex reads every set for nil
	pr := &PollResult{Job: cfg.Name, Processed: []*Result{}}
	err = watch.List(ctx, func(o store.Object) error {
		segs, prefix, ok := j.pattern.Match(o.Key)
		if !ok {
			if !isBookkeeping(o.Key) {
				pr.Ignored++
			}
			return nil
		}
		s := sets[prefix]
		if s == nil {
			delete(segs, "file")
			s = &set{segs: segs}
			sets[prefix] = s
			order = append(order, prefix)
		}
		s.objs = append(s.objs, o)
		return nil
	})
	if err != nil {
		err = fmt.Errorf("inbox %s: list %s: %w", cfg.Name, watch.URL(), err)
		reportToSentry(&deps, cfg, "", err)
		return nil, err
	}
	sort.Strings(order)
	pr.Sets = len(order)
	opts.SkipUnchanged = true
	var errs []error
	var idx *Index
	indexer, _ := deps.Ledger.(Indexer)
	if indexer != nil {
		if idx, err = indexer.LoadIndex(ctx, cfg.Name, order); err != nil {
			deps.Logger.Warn("inbox: poll index unreadable; reading every set's record", "error", err)
			idx = nil
		}
	}
	for _, prefix := range order {
		s := sets[prefix]
		if idx != nil {
			e, ok := idx.Sets[prefix]
			if ok && e.Fingerprint == objectsFingerprint(s.objs) {
				pr.Unchanged++
				if e.GaveUp {
					pr.GaveUp++
					pr.GaveUpSets = append(pr.GaveUpSets, prefix)
				}
				continue
			}
		}
		res, err := j.process(ctx, &deps, prefix, s.segs, s.objs, opts)
		if err != nil {
			errs = append(errs, err)
		}
		if res == nil {
			continue
		}
		if idx != nil {
			if res.complete {
				idx.set(prefix, IndexEntry{Fingerprint: res.Fingerprint, GaveUp: res.GaveUp})
			} else {
				idx.drop(prefix)
			}
		}
		if res.Busy {
			pr.Busy++
			pr.BusySets = append(pr.BusySets, prefix)
			continue
		}
		if res.Skipped {
			pr.Unchanged++
			if res.GaveUp {
				pr.GaveUp++
				pr.GaveUpSets = append(pr.GaveUpSets, prefix)
			}
			continue
		}
		pr.Processed = append(pr.Processed, res)
	}
	if idx != nil && !opts.DryRun {
		for p := range idx.Sets {
			if _, listed := sets[p]; !listed {
				idx.drop(p) // the set is gone from the watch area
			}
		}
		if err := indexer.SaveIndex(ctx, cfg.Name, idx); err != nil {
			// Only a cache: the next poll reads these sets' records again.
			deps.Logger.Warn("inbox: poll index not saved", "error", err)
		}
	}
	return pr, errors.Join(errs...)
}

// objectsFingerprint is Fingerprint of a set's listed objects.
func objectsFingerprint(objs []store.Object) string {
	files := make([]FileReport, len(objs))
	for i, o := range objs {
		files[i] = FileReport{Key: o.Key, ETag: o.ETag}
	}
	return Fingerprint(files)
}

func isBookkeeping(key string) bool {
	return strings.HasPrefix(key, ".ghsync/") || path.Base(key) == "report.json"
}

// WatchedKey maps an event's bucket and key to a key relative to the watch
// prefix; ok is false when the object is outside cfg.Watch. For store URLs
// without a bucket name (file://, mem://) only the prefix is compared.
func (c *Config) WatchedKey(bucket, key string) (rel string, ok bool) {
	u, err := url.Parse(c.Watch)
	if err != nil {
		return "", false
	}
	prefix := strings.Trim(u.Path, "/")
	if u.Scheme == "file" {
		prefix = ""
	} else if u.Host != bucket {
		return "", false
	}
	if p := strings.Trim(u.Query().Get("prefix"), "/"); p != "" {
		prefix = strings.Trim(prefix+"/"+p, "/")
	}
	if prefix == "" {
		return key, key != ""
	}
	rel, ok = strings.CutPrefix(key, prefix+"/")
	if !ok || rel == "" {
		return "", false
	}
	return rel, true
}

// ProcessEvent processes the upload sets named by a storage event's
// objects: every object of the event, each set once, skipping sets the
// ledger recorded complete with the same keys and ETags (a redelivered
// event); a recorded set with actions left to try performs only those.
func ProcessEvent(ctx context.Context, deps Deps, cfg *Config, objects []EventObject, opts RunOptions) (*EventResult, error) {
	deps.fill()
	j, err := compileOrError(cfg)
	if err != nil {
		return nil, err
	}
	er := &EventResult{Job: cfg.Name, Results: []*Result{}}
	seen := map[string]bool{}
	var prefixes []string
	segsOf := map[string]map[string]string{}
	for _, o := range objects {
		rel, ok := cfg.WatchedKey(o.Bucket, o.Key)
		if !ok {
			er.Ignored = append(er.Ignored, o)
			continue
		}
		segs, prefix, ok := j.pattern.SetOf(rel)
		if !ok {
			er.Ignored = append(er.Ignored, o)
			continue
		}
		if !seen[prefix] {
			seen[prefix] = true
			prefixes = append(prefixes, prefix)
			segsOf[prefix] = segs
		}
	}
	opts.SkipUnchanged = true
	var errs []error
	for _, prefix := range prefixes {
		objs, err := j.listSet(ctx, &deps, prefix)
		if err != nil {
			reportToSentry(&deps, cfg, prefix, err)
			errs = append(errs, err)
			continue
		}
		segs := segsOf[prefix]
		delete(segs, "file")
		res, err := j.processWaiting(ctx, &deps, prefix, segs, objs, opts)
		if err != nil {
			errs = append(errs, err)
		}
		if res != nil {
			er.Results = append(er.Results, res)
		}
	}
	return er, errors.Join(errs...)
}

func compileOrError(cfg *Config) (*job, error) {
	j, errs := compile(cfg)
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("inbox %s: invalid configuration: %s", cfg.Name, strings.Join(msgs, "; "))
	}
	return j, nil
}

// listSet lists the objects of the set at prefix (keys relative to watch),
// in key order, without report.json.
func (j *job) listSet(ctx context.Context, deps *Deps, prefix string) ([]store.Object, error) {
	u, err := withPrefix(j.cfg.Watch, prefix)
	if err != nil {
		return nil, fmt.Errorf("inbox %s: %w", j.cfg.Name, err)
	}
	b, err := deps.OpenStore(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("inbox %s: open watch: %w", j.cfg.Name, err)
	}
	defer b.Close()
	var objs []store.Object
	err = b.List(ctx, func(o store.Object) error {
		full := prefix + o.Key
		if _, p, ok := j.pattern.Match(full); ok && p == prefix {
			o.Key = full
			objs = append(objs, o)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inbox %s: list %s: %w", j.cfg.Name, b.URL(), err)
	}
	sort.Slice(objs, func(a, b int) bool { return objs[a].Key < objs[b].Key })
	return objs, nil
}

// withPrefix narrows a store URL to a sub-prefix via ?prefix=.
func withPrefix(raw, sub string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("watch URL %s: %w", store.Redact(raw), err)
	}
	if sub == "" {
		return raw, nil
	}
	q := u.Query()
	p := strings.Trim(q.Get("prefix"), "/")
	if p != "" {
		p += "/"
	}
	q.Set("prefix", p+strings.TrimSuffix(sub, "/"))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// openerFor opens key of bucket for the checks.
func openerFor(b *store.Bucket, key string) Opener {
	return func(ctx context.Context) (io.ReadCloser, error) {
		r, err := b.NewReader(ctx, key)
		if err != nil {
			return nil, err
		}
		return r, nil
	}
}
