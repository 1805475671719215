package reposync

import (
	"cmp"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// ItemKind is the change kind of a planned upload (one byte: a plan can
// hold a million items).
type ItemKind uint8

// Change kinds of a planned upload.
const (
	KindNew      ItemKind = iota + 1
	KindModified          // changed in the source
	KindRepair            // unchanged in the source, but drifted in the store (--verify)
)

// String returns "new", "modified" or "repair".
func (k ItemKind) String() string {
	switch k {
	case KindNew:
		return "new"
	case KindModified:
		return "modified"
	case KindRepair:
		return "repair"
	}
	return fmt.Sprintf("ItemKind(%d)", uint8(k))
}

// Item is one object the run wants under the prefix. It is kept small (24
// bytes: a plan can hold a million): the content entry is a pointer into
// the source listing, which gives the blob, size, link target and, unless
// the item is a followed symlink, the path; the key is the key prefix and
// the path (the path itself, without a prefix); the prefix, content type
// and cache control are in attributes shared by every item that has the
// same ones.
type Item struct {
	Content *source.Entry // the entry whose content is uploaded (differs from Path for followed symlinks)
	attrs   *itemAttrs    // never nil once made by newItem
	slot    int32         // set by applyPlan: where the item's ETag is recorded
	Kind    ItemKind      // for uploads: new, modified or repair
	link    bool          // a symlink in object mode: the body is the link's target
}

// itemAttrs are what an item has beyond its content: shared by every item
// with the same key prefix, content type and cache control, and copied for
// the few items that also have an existing object, a path other than
// their content's or a key other than the prefix and the path.
type itemAttrs struct {
	prefix, contentType, cacheControl string
	path                              string        // set when the path is not the content's
	key                               string        // set when the key is not the prefix and the path
	existing                          *store.Object // what the store holds at the key, when the plan or apply knows
}

// attrTable interns itemAttrs by key prefix, content type and cache control.
type attrTable map[[3]string]*itemAttrs

// get returns the shared attributes for a key prefix, content type and
// cache control.
func (t attrTable) get(prefix, contentType, cacheControl string) *itemAttrs {
	k := [3]string{prefix, contentType, cacheControl}
	a, ok := t[k]
	if !ok {
		a = &itemAttrs{prefix: prefix, contentType: contentType, cacheControl: cacheControl}
		t[k] = a
	}
	return a
}

// newItem returns an item for the object at key, named path in the
// source, with the given content (nil: none) and attributes (nil: none).
// The attributes are shared when key is their prefix and path and path is
// the content's; otherwise the item gets its own copy naming them.
func newItem(key, path string, content *source.Entry, attrs *itemAttrs) Item {
	if attrs == nil {
		attrs = &itemAttrs{}
	}
	it := Item{Content: content, attrs: attrs}
	ownPath := content == nil || content.Path != path
	ownKey := !isPrefixedPath(key, attrs.prefix, path)
	if ownPath || ownKey {
		a := *attrs
		if ownPath {
			a.path = path
		}
		if ownKey {
			a.key = key
		}
		it.attrs = &a
	}
	return it
}

// isPrefixedPath reports whether key is prefix followed by path, without
// joining them.
func isPrefixedPath(key, prefix, path string) bool {
	rest, ok := strings.CutPrefix(key, prefix)
	return ok && rest == path
}

// Path is the repo-relative path (the object's name in the source).
func (it *Item) Path() string {
	if it.attrs.path != "" {
		return it.attrs.path
	}
	return it.Content.Path
}

// Key is the object key relative to the bucket prefix: the key prefix and
// the path (a new string each call when there is a prefix).
func (it *Item) Key() string {
	a := it.attrs
	switch {
	case a.key != "":
		return a.key
	case a.prefix == "":
		return it.Path()
	}
	return a.prefix + it.Path()
}

// keyParts returns the key as two parts to be read one after the other.
func (it *Item) keyParts() (string, string) {
	if it.attrs.key != "" {
		return it.attrs.key, ""
	}
	return it.attrs.prefix, it.Path()
}

// compareKeys orders x and y by key, without building either key.
func compareKeys(x, y *Item) int {
	a1, a2 := x.keyParts()
	b1, b2 := y.keyParts()
	return compareJoined(a1, a2, b1, b2)
}

// compareKey orders it's key and key, without building it's key.
func compareKey(it *Item, key string) int {
	a1, a2 := it.keyParts()
	return compareJoined(a1, a2, key, "")
}

// compareJoined compares a1+a2 with b1+b2 as strings.Compare would,
// without joining them.
func compareJoined(a1, a2, b1, b2 string) int {
	if a1 == b1 {
		return strings.Compare(a2, b2)
	}
	la, lb := len(a1)+len(a2), len(b1)+len(b2)
	at := func(s1, s2 string, i int) byte {
		if i < len(s1) {
			return s1[i]
		}
		return s2[i-len(s1)]
	}
	for i := 0; i < la && i < lb; i++ {
		if ca, cb := at(a1, a2, i), at(b1, b2, i); ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	return cmp.Compare(la, lb)
}

// ContentType is the object's Content-Type.
func (it *Item) ContentType() string { return it.attrs.contentType }

// CacheControl is the object's Cache-Control ("" for none).
func (it *Item) CacheControl() string { return it.attrs.cacheControl }

// existing is what the store holds at the key, when the plan (from the
// listing) or apply (from a Stat) knows; nil otherwise.
func (it *Item) existing() *store.Object { return it.attrs.existing }

// setExisting records what the store holds at the key (nil: nothing
// known), on a copy of the item's attributes, never the shared ones.
func (it *Item) setExisting(obj *store.Object) {
	var a itemAttrs
	if it.attrs != nil {
		a = *it.attrs
	}
	a.existing = obj
	it.attrs = &a
}

// object is the manifest's record of the item once stored with etag.
func (it *Item) object(etag string) ManifestObject {
	path := it.Path()
	ob := ManifestObject{Path: path, Key: it.Key(), Blob: it.Blob().String(), Size: it.Size(), ContentType: it.ContentType(), ETag: etag}
	if it.Content.Path == path && !it.link {
		ob.MTime = it.Content.MTime // the size and time the content was hashed at
	}
	return ob
}

// Blob is the content's git blob SHA (or release asset); its String is
// recorded as ghsync-blob.
func (it *Item) Blob() source.Blob { return it.Content.Blob }

// Size is the size of the content.
func (it *Item) Size() int64 { return it.Content.Size }

// LinkTarget is, for a symlink in object mode, the link's target (the
// object's body); "" otherwise.
func (it *Item) LinkTarget() string {
	if it.link {
		return it.Content.Target
	}
	return ""
}

// Plan is what a run will do. It is a plain value: --dry-run prints it,
// apply executes it.
type Plan struct {
	Commit    string
	Uploads   []Item           // new, modified and drifted objects
	Adopt     []Item           // objects already present whose content may match (checked before upload)
	Keep      []ManifestObject // managed and unchanged
	Deletes   []string         // keys, relative to the prefix
	Skipped   []string         // paths skipped by policy (symlinks, submodules) or, with SkipUnstorable, unstorable names
	Skips     Skips            // Skipped by reason
	Unmanaged int              // objects under the prefix that ghsync does not manage and leaves alone

	listing []source.Entry // the source listing the items' Content points into
	// fence maps an upload's key to the ETag it must replace (If-Match);
	// an upload whose key is absent here and that has no existing object
	// is a create (If-None-Match). See fence.go.
	fence map[string]string
}

// Skips counts the source paths a run left out, by reason.
type Skips struct {
	// Unstorable counts files whose names the destination cannot hold (only
	// with Options.SkipUnstorable; otherwise the run fails naming them).
	Unstorable int `json:"unstorable"`
	// Symlinks counts symlinks left out by the symlink policy.
	Symlinks int `json:"symlinks"`
	// Submodules counts submodules (never mirrored).
	Submodules int `json:"submodules"`
}

// ErrUnstorable is matched (errors.Is) by the error of a run that stopped
// because some source files have names the destination cannot hold under
// their own name; nothing was written. It is store.ErrUnstorable.
var ErrUnstorable = store.ErrUnstorable

// maxNamed bounds the file names an unstorable-names error lists.
const maxNamed = 20

// Changed reports whether applying the plan changes the store.
func (p *Plan) Changed() bool { return len(p.Uploads) > 0 || len(p.Deletes) > 0 || len(p.Adopt) > 0 }

// planInput is everything the planner needs; it does no I/O.
type planInput struct {
	entries []source.Entry // the whole source tree, sorted by path
	prev    manifestState  // loaded: Objects sorted by key, one per key
	// listing is the store listing by key, nil when the store was not
	// listed. makePlan removes from it the keys the source still has.
	listing  map[string]store.Object
	opts     *Options
	manifest string // manifest key
	// unreadable are source paths the source could not read: what the
	// manifest records for them is kept and nothing is deleted there.
	unreadable unreadableSet
}

// makePlan diffs the source against the manifest (and the listing, when
// there is one) and applies the delete policy and its guard. It walks the
// source entries once, looking each key up in the manifest's sorted
// objects; no per-object map is built, and the wanted objects are not held
// beside the plan.
func makePlan(in planInput) (*Plan, error) {
	p := &Plan{listing: in.entries}
	var managed []ManifestObject
	if in.prev.m != nil {
		managed = in.prev.m.Objects
	}
	wanted := make([]bool, len(managed)) // managed keys the source still has
	if len(managed) > 0 {
		p.Keep = make([]ManifestObject, 0, len(managed)+16) // most are kept; room for a few more in apply
	} else if n := len(in.entries) - len(in.listing); n > 0 {
		// A cold run uploads every entry it does not find in the store
		// listing (empty on a first run): one allocation of the plan's
		// size, not append's growth in steps, which at 1,000,000 files
		// held the old and the new array at once (150 MB for an 88 MB plan).
		p.Uploads = make([]Item, 0, n)
	}
	skipped, err := eachDesired(in.entries, in.opts, &p.Skips, func(it Item) {
		i, isManaged := searchObject(managed, it.Key())
		var old ManifestObject
		if isManaged {
			wanted[i] = true
			old = managed[i]
		}
		// A placeholder (blob "") is a key an earlier run meant to create and
		// may not have (writeIntent): what the store holds there decides.
		isManaged = isManaged && old.Blob != ""
		obj, listed := in.listing[it.Key()]
		if listed {
			delete(in.listing, it.Key()) // wanted: what remains is unmanaged or to delete
		}
		switch {
		case isManaged && it.Blob().Is(old.Blob) && old.ContentType == it.ContentType():
			// A size other than the recorded one is drift too, even under the
			// recorded ETag: builds before the body checks could store a
			// download cut short and record its ETag.
			if in.listing != nil && (!listed || obj.ETag != old.ETag || obj.Size != old.Size) {
				if listed {
					p.fenceOn(it.Key(), obj.ETag)
				}
				it.Kind = KindRepair
				p.Uploads = append(p.Uploads, it)
				return
			}
			if it.Content.Path == it.Path() {
				old.MTime = it.Content.MTime // the size and time this content now has
			}
			p.Keep = append(p.Keep, old)
		case isManaged:
			switch {
			case listed:
				p.fenceOn(it.Key(), obj.ETag)
			case in.listing == nil:
				p.fenceOn(it.Key(), old.ETag)
			}
			it.Kind = KindModified
			p.Uploads = append(p.Uploads, it)
		case listed && obj.Size == it.Size():
			it.Kind = KindNew
			existing := obj // a copy: taking obj's address would move every lookup's result to the heap
			it.setExisting(&existing)
			p.Adopt = append(p.Adopt, it)
		default:
			if listed { // an object of another size: replaced, as long as it is what the listing saw
				p.fenceOn(it.Key(), obj.ETag)
			}
			it.Kind = KindNew
			p.Uploads = append(p.Uploads, it)
		}
	})
	if err != nil {
		return nil, err
	}
	p.Skipped = skipped
	if err := planDeletes(p, in, managed, wanted); err != nil {
		return nil, err
	}
	return p, nil
}

// searchObject finds key in objects sorted by key.
func searchObject(objects []ManifestObject, key string) (int, bool) {
	i := sort.Search(len(objects), func(i int) bool { return objects[i].Key >= key })
	return i, i < len(objects) && objects[i].Key == key
}

// planDeletes fills p.Deletes according to the policy and enforces
// max_delete. managed are the manifest's objects sorted by key, wanted[i]
// whether the source still has managed[i]; in.listing holds only the
// listed keys the source does not have.
func planDeletes(p *Plan, in planInput, managed []ManifestObject, wanted []bool) error {
	o := in.opts
	for i, m := range managed {
		if wanted[i] || o.Delete == DeleteNone {
			continue
		}
		if in.unreadable.covers(m.Path) {
			if m.Blob != "" {
				p.Keep = append(p.Keep, m) // unchanged in the store; the source could not say
			}
			continue
		}
		if _, listed := in.listing[m.Key]; m.Blob == "" && in.listing != nil && !listed {
			continue // a placeholder whose upload never happened: nothing to delete
		}
		p.Deletes = append(p.Deletes, m.Key)
	}
	for key := range in.listing {
		if key == in.manifest || strings.HasPrefix(key, path.Dir(in.manifest)+"/") || isShardKey(in.manifest, key) {
			continue
		}
		if _, ok := searchObject(managed, key); ok {
			continue
		}
		rel := strings.TrimPrefix(key, o.KeyPrefix)
		if in.unreadable.covers(rel) {
			p.Unmanaged++
			continue
		}
		if o.Delete == DeleteAll && strings.HasPrefix(key, o.KeyPrefix) && o.Filter.Match(rel) {
			p.Deletes = append(p.Deletes, key)
			continue
		}
		p.Unmanaged++
	}
	sort.Strings(p.Deletes)
	return checkMaxDelete(o, len(p.Deletes), len(managed))
}

// checkMaxDelete enforces max_delete on a plan deleting n of managed objects.
func checkMaxDelete(o *Options, n, managed int) error {
	if limit := o.MaxDelete.Limit(managed); n > limit && !o.Force {
		return fmt.Errorf("%w: the run would delete %d objects, more than max_delete allows (%d of %d managed); nothing was changed — check the source and filters, or rerun with --force",
			ErrTooManyDeletes, n, limit, managed)
	}
	return nil
}

// desiredItems returns, as a slice, the objects eachDesired yields.
func desiredItems(entries []source.Entry, o *Options, skips *Skips) (items []Item, skipped []string, err error) {
	skipped, err = eachDesired(entries, o, skips, func(it Item) { items = append(items, it) })
	if err != nil {
		return nil, nil, err
	}
	return items, skipped, nil
}

// eachDesired turns source entries into the objects the run wants, in
// entry order, applying the filters and the symlink and submodule policies,
// and passes each to fn (which may keep it; its Content points into
// entries). A file whose key the destination cannot hold under its own
// name (Bucket.CheckKey) fails the plan with an error naming the files, or
// is skipped (and counted) with Options.SkipUnstorable.
func eachDesired(entries []source.Entry, o *Options, skips *Skips, fn func(Item)) (skipped []string, err error) {
	var unstorable []string
	var byPath map[string]*source.Entry // made when a symlink is to be followed
	attrs := attrTable{}
	for i := range entries {
		e := &entries[i]
		if !o.Filter.Match(e.Path) {
			continue
		}
		key := o.KeyPrefix + e.Path
		if err := o.Bucket.CheckKey(key); err != nil {
			if !o.SkipUnstorable {
				unstorable = append(unstorable, fmt.Sprintf("%q (%v)", e.Path, err))
				continue
			}
			o.Logger.Warn("skipping a file whose name the destination cannot hold (skip_unstorable is on)", "path", e.Path, "reason", err)
			skipped = append(skipped, e.Path)
			skips.Unstorable++
			continue
		}
		content, link := e, false
		switch e.Mode {
		case source.ModeSubmodule:
			o.Logger.Info("skipping submodule", "path", e.Path)
			skipped = append(skipped, e.Path)
			skips.Submodules++
			continue
		case source.ModeSymlink:
			if byPath == nil && o.Symlinks == SymlinksFollow {
				byPath = make(map[string]*source.Entry, len(entries))
				for i := range entries {
					byPath[entries[i].Path] = &entries[i]
				}
			}
			target, ok := resolveLink(e, byPath, o.Symlinks)
			if !ok {
				o.Logger.Info("skipping symlink", "path", e.Path, "target", e.Target, "policy", o.Symlinks)
				skipped = append(skipped, e.Path)
				skips.Symlinks++
				continue
			}
			content, link = target, o.Symlinks == SymlinksObject
		}
		contentType := ContentType(o.ContentTypes, e.Path)
		if link {
			contentType = "text/plain; charset=utf-8"
		}
		cacheControl, _ := firstMatch(o.CacheControl, e.Path)
		if len(unstorable) == 0 { // the plan fails anyway otherwise
			it := newItem(key, e.Path, content, attrs.get(o.KeyPrefix, contentType, cacheControl))
			it.link = link
			fn(it)
		}
	}
	if total := len(unstorable); total > 0 {
		more := ""
		if len(unstorable) > maxNamed {
			more = fmt.Sprintf(" … and %d more", len(unstorable)-maxNamed)
			unstorable = unstorable[:maxNamed]
		}
		return nil, fmt.Errorf("%w: %d source files cannot be stored on %s under their own name, so nothing was written: %s%s; "+
			"rename them, exclude them with a filter, or leave them out with --skip-unstorable (skip_unstorable: true in a repo job)",
			ErrUnstorable, total, o.Bucket.URL(), strings.Join(unstorable, ", "), more)
	}
	return skipped, nil
}

// resolveLink applies the symlink policy: object keeps the link itself;
// follow resolves a target inside the tree (through at most 40 links) to a
// regular file; anything else is skipped.
func resolveLink(e *source.Entry, byPath map[string]*source.Entry, policy string) (*source.Entry, bool) {
	switch policy {
	case SymlinksObject:
		return e, true
	case SymlinksFollow:
		cur := e
		for i := 0; i < 40 && cur.Mode == source.ModeSymlink; i++ {
			if strings.HasPrefix(cur.Target, "/") {
				return nil, false
			}
			p := path.Clean(path.Join(path.Dir(cur.Path), cur.Target))
			if p == ".." || strings.HasPrefix(p, "../") {
				return nil, false
			}
			next, ok := byPath[p]
			if !ok {
				return nil, false
			}
			cur = next
		}
		return cur, cur.Mode == source.ModeFile || cur.Mode == source.ModeExec
	default:
		return nil, false
	}
}
