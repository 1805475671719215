package reposync

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
	touched := make(map[string]string, len(plan.Uploads)+len(plan.Deletes)) // key → path
	for _, it := range plan.Uploads {
		touched[it.Key] = it.Path
	}
	for _, k := range plan.Deletes {
		if _, ok := touched[k]; !ok {
			touched[k] = ""
		}
	}
	if len(touched) == 0 {
		return nil
	}
	var out []ManifestObject
	if prev.m != nil {
		out = make([]ManifestObject, 0, len(prev.m.Objects)+len(plan.Uploads))
		for _, o := range prev.m.Objects {
			if path, ok := touched[o.Key]; ok {
				if path == "" {
					path = o.Path
				}
				touched[o.Key] = path
				continue // recorded as a placeholder below
			}
			out = append(out, o)
		}
	}
	for key, path := range touched {
		out = append(out, ManifestObject{Path: path, Key: key})
	}
	return out
}
