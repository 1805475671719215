package reposync

import (
	"iter"
	"slices"
	"strings"
)

// intentObjects returns the objects the intent manifest (writeIntent) must
// list before this run writes or deletes anything, or nil when the plan
// writes and deletes nothing. Every key the run may change is recorded as
// a placeholder (no blob: "unknown, look at the store"):
//
//   - keys it creates, so an object a failed run left is never outside
//     every manifest;
//   - keys it overwrites (modified, repaired), so a run that fails after
//     overwriting one leaves no manifest claiming the old content there:
//     the next run lists the store and re-uploads or adopts (by its
//     ghsync-blob, or its MD5) whatever the source then holds, even when
//     the source went back to the content the old manifest recorded;
//   - keys it deletes, so a run that fails half-way through its deletes
//     leaves no manifest claiming an object that is gone.
//
// Every other object of the previous manifest is kept as it was: the run
// does not touch it. So at every moment each blob the manifest records is
// what the store holds at that key.
func intentObjects(prev manifestState, plan *Plan) []ManifestObject {
	touched := touchedKeys(prev, plan)
	if len(touched) == 0 {
		return nil
	}
	var out []ManifestObject
	if prev.m != nil {
		out = make([]ManifestObject, 0, len(prev.m.Objects)+len(plan.Uploads))
		for _, o := range prev.m.Objects {
			if _, ok := searchTouch(touched, o.Key); ok {
				continue // recorded as a placeholder below
			}
			out = append(out, o)
		}
	}
	for _, t := range touched {
		out = append(out, ManifestObject{Path: t.path, Key: t.key})
	}
	return out
}

// touch is a key a run may change, with its source path ("" when neither
// the plan nor the previous manifest knows one).
type touch struct{ key, path string }

// touchedKeys returns the keys plan creates, overwrites or deletes, sorted
// by key, each once: an upload's with its path, a delete's with the path
// the previous manifest records for it. A sorted slice, not a map: a cold
// run touches every key of the tree.
func touchedKeys(prev manifestState, plan *Plan) []touch {
	if len(plan.Uploads)+len(plan.Deletes) == 0 {
		return nil
	}
	out := make([]touch, 0, len(plan.Uploads)+len(plan.Deletes))
	for _, it := range plan.Uploads {
		out = append(out, touch{it.Key(), it.Path()})
	}
	for _, k := range plan.Deletes {
		out = append(out, touch{k, ""})
	}
	// Stable: of an uploaded and deleted key, the upload (with its path) comes first and stays.
	slices.SortStableFunc(out, func(a, b touch) int { return strings.Compare(a.key, b.key) })
	out = slices.CompactFunc(out, func(a, b touch) bool { return a.key == b.key })
	if prev.m != nil && len(plan.Deletes) > 0 {
		for i := range out {
			if out[i].path != "" {
				continue
			}
			if j, ok := searchObject(prev.m.Objects, out[i].key); ok {
				out[i].path = prev.m.Objects[j].Path
			}
		}
	}
	return out
}

// searchTouch finds key in touched (sorted by key).
func searchTouch(touched []touch, key string) (int, bool) {
	return slices.BinarySearchFunc(touched, key, func(t touch, k string) int { return strings.Compare(t.key, k) })
}

// eachTouched yields the keys touchedKeys returns, with their paths, in
// the same order, merged from plan.Uploads and plan.Deletes (each in key
// order as the planner makes them) without collecting them; nil when
// either is not in key order (touchedKeys sorts a copy then).
func eachTouched(prev manifestState, plan *Plan) iter.Seq2[string, string] {
	if !slices.IsSortedFunc(plan.Uploads, func(a, b Item) int { return compareKeys(&a, &b) }) || !slices.IsSorted(plan.Deletes) {
		return nil
	}
	return func(yield func(key, path string) bool) {
		i, j := 0, 0
		last, any := "", false
		for i < len(plan.Uploads) || j < len(plan.Deletes) {
			var key, path string
			if j >= len(plan.Deletes) || i < len(plan.Uploads) && compareKey(&plan.Uploads[i], plan.Deletes[j]) <= 0 {
				key, path = plan.Uploads[i].Key(), plan.Uploads[i].Path() // of an uploaded and deleted key, the upload's path
				i++
			} else {
				key = plan.Deletes[j]
				j++
				if prev.m != nil {
					if k, ok := searchObject(prev.m.Objects, key); ok {
						path = prev.m.Objects[k].Path
					}
				}
			}
			if any && key == last {
				continue // once per key
			}
			last, any = key, true
			if !yield(key, path) {
				return
			}
		}
	}
}
