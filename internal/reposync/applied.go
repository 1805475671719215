package reposync

import (
	"iter"
	"slices"
	"strings"
)

// applied is what applyPlan did: the objects kept as they were, and the
// items of the plan (adopt first, then uploads: an item's slot indexes
// etags) with the ETag each got (none for an item neither stored nor
// adopted). It is read as one sequence of manifest objects (objects),
// built one at a time, so the new manifest is written without a second
// copy of the tree.
type applied struct {
	keep    []ManifestObject
	adopt   []Item
	uploads []Item
	etags   etagTable // by slot: set when the item was stored or adopted
}

// count is how many objects objects yields.
func (a *applied) count() int {
	return len(a.keep) + a.etags.count()
}

// objects yields the new manifest's objects sorted by key, one per key (of
// a key both kept and stored, the stored one). Keep, Adopt and Uploads are
// each in key order as the planner makes them, so this is a merge; should
// one not be, the objects are collected and sorted instead.
func (a *applied) objects() iter.Seq[ManifestObject] {
	byKey := func(x, y Item) int { return compareKeys(&x, &y) }
	if !slices.IsSortedFunc(a.keep, func(x, y ManifestObject) int { return strings.Compare(x.Key, y.Key) }) ||
		!slices.IsSortedFunc(a.adopt, byKey) || !slices.IsSortedFunc(a.uploads, byKey) {
		return a.sorted()
	}
	return func(yield func(ManifestObject) bool) {
		k, i, j := 0, 0, 0
		for {
			for i < len(a.adopt) && !a.etags.has(i) {
				i++
			}
			for j < len(a.uploads) && !a.etags.has(len(a.adopt)+j) {
				j++
			}
			// The smallest key of the three heads; ties go to the stored item.
			var next *Item
			var slot int
			if i < len(a.adopt) {
				next, slot = &a.adopt[i], i
			}
			if j < len(a.uploads) && (next == nil || compareKeys(&a.uploads[j], next) < 0) {
				next, slot = &a.uploads[j], len(a.adopt)+j
			}
			if k < len(a.keep) && (next == nil || compareKey(next, a.keep[k].Key) > 0) {
				if !yield(a.keep[k]) {
					return
				}
				k++
				continue
			}
			if next == nil {
				return
			}
			if k < len(a.keep) && compareKey(next, a.keep[k].Key) == 0 {
				k++
			}
			if slot < len(a.adopt) {
				i++
			} else {
				j++
			}
			if !yield(next.object(a.etags.get(slot))) {
				return
			}
		}
	}
}

// sorted yields the objects sorted by key from one collected slice (the
// fallback of objects; the last record of a key wins, as sortedObjects).
func (a *applied) sorted() iter.Seq[ManifestObject] {
	out := slices.Clone(a.keep)
	for slot := range a.etags.len() {
		if !a.etags.has(slot) {
			continue
		}
		out = append(out, a.item(slot).object(a.etags.get(slot)))
	}
	return slices.Values(sortedObjects(out))
}

// item returns the item of slot.
func (a *applied) item(slot int) *Item {
	if slot < len(a.adopt) {
		return &a.adopt[slot]
	}
	return &a.uploads[slot-len(a.adopt)]
}
