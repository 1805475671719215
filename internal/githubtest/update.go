package githubtest

import "path"

// Update commits branch's current tree with files added or replaced and the
// paths in deletes removed (a patch, unlike Commit which replaces the whole
// tree), and returns the new commit SHA.
func (r *Repo) Update(branch string, files []File, deletes ...string) string {
	r.s.t.Helper()
	r.s.mu.Lock()
	var flat []flatFile
	if head := r.branches[branch]; head != "" {
		var walk func(prefix, treeSHA string)
		walk = func(prefix, treeSHA string) {
			for _, e := range r.s.trees[treeSHA].entries {
				p := path.Join(prefix, e.name)
				if e.mode == "40000" {
					walk(p, e.sha)
					continue
				}
				flat = append(flat, flatFile{path: p, mode: e.mode, sha: e.sha, size: e.size})
			}
		}
		walk("", r.s.commits[head].tree)
	}
	r.s.mu.Unlock()
	drop := map[string]bool{}
	for _, d := range deletes {
		drop[d] = true
	}
	for _, f := range files {
		drop[f.Path] = true
	}
	kept := flat[:0]
	for _, f := range flat {
		if !drop[f.path] {
			kept = append(kept, f)
		}
	}
	blobs := map[string][]byte{}
	for _, f := range files {
		p, err := cleanRepoPath(f.Path)
		if err != nil {
			r.s.t.Fatalf("githubtest: Update: %v", err)
		}
		mode, err := normaliseMode(f.Mode)
		if err != nil {
			r.s.t.Fatalf("githubtest: Update %s: %v", f.Path, err)
		}
		sha := GitBlobSHA(f.Content)
		blobs[sha] = f.Content
		kept = append(kept, flatFile{path: p, mode: mode, sha: sha, size: int64(len(f.Content))})
	}
	sha, err := r.commitFlat(branch, kept, blobs, "Update "+branch)
	if err != nil {
		r.s.t.Fatalf("githubtest: Update: %v", err)
	}
	return sha
}
